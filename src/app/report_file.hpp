#pragma once
// The --report JSON file of either program.

#include <string>

#include <nlohmann/json.hpp>

namespace app {

class ReportFile {
  public:
    ReportFile(std::string program, std::string path)
        : program_(std::move(program)), path_(std::move(path)) {}
    // Creates the file up front, so an unwritable path is a usage error found before anything
    // is sent. True when there is no report to write.
    bool prepare() const;
    // Writes the final figures; says so on stderr if it cannot.
    void write(const nlohmann::json& report) const;

  private:
    std::string program_;
    std::string path_;  // empty: no report
};

}  // namespace app

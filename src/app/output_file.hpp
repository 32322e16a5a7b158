#pragma once
// A file a program writes its results to (--report, --csv, --html).

#include <string>
#include <string_view>

namespace app {

class OutputFile {
  public:
    // `what` names the file in error messages, e.g. "the report file".
    OutputFile(std::string program, std::string what, std::string path)
        : program_(std::move(program)), what_(std::move(what)), path_(std::move(path)) {}
    // Checks up front that the file can be written, so an unwritable path is a usage error
    // found before anything is sent; an earlier file of that name stays as it was. True when
    // there is nothing to write (no path given).
    bool prepare() const;
    // Writes `text` (nothing without a path) atomically: to PATH.tmp, then renamed over PATH,
    // so that a failed or cut-off write never leaves an empty or partial file; says so on
    // stderr if it cannot.
    void write(std::string_view text) const;
    bool wanted() const { return !path_.empty(); }

  private:
    std::string program_;
    std::string what_;
    std::string path_;  // empty: not asked for
};

}  // namespace app

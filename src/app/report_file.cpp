#include "app/report_file.hpp"

#include <fstream>

#include "app/console.hpp"

namespace app {

bool ReportFile::prepare() const {
    if (path_.empty() || std::ofstream(path_, std::ios::trunc)) return true;
    print_error(program_, "cannot write the report file " + path_);
    return false;
}

void ReportFile::write(const nlohmann::json& report) const {
    if (path_.empty()) return;
    std::ofstream out(path_, std::ios::trunc);
    out << report.dump(2) << '\n';
    if (!out) print_error(program_, "cannot write the report to " + path_);
}

}  // namespace app

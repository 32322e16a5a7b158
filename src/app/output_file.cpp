#include "app/output_file.hpp"

#include <fstream>

#include "app/console.hpp"

namespace app {

bool OutputFile::prepare() const {
    if (path_.empty() || std::ofstream(path_, std::ios::trunc)) return true;
    print_error(program_, "cannot write " + what_ + " " + path_);
    return false;
}

void OutputFile::write(std::string_view text) const {
    if (path_.empty()) return;
    std::ofstream out(path_, std::ios::trunc);
    out << text;
    if (!out) print_error(program_, "cannot write " + what_ + " " + path_);
}

}  // namespace app

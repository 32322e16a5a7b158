#include "app/output_file.hpp"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "app/console.hpp"

namespace app {
namespace {

namespace fs = std::filesystem;

// A path that is not (yet) a regular file, such as /dev/stdout or a pipe, is written in place:
// renaming over it would replace the device.
bool write_in_place(const std::string& path) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    return fs::exists(status) && !fs::is_regular_file(status);
}

std::string temporary_for(const std::string& path) {
    return path + ".tmp";
}

}  // namespace

bool OutputFile::prepare() const {
    if (path_.empty()) return true;
    // Probe the directory with the temporary file, leaving an earlier result untouched: a run
    // that dies before its end must not leave an empty report behind [issue 29].
    const std::string probe = write_in_place(path_) ? path_ : temporary_for(path_);
    if (std::ofstream(probe, std::ios::app)) {
        std::error_code ec;
        if (probe != path_) fs::remove(probe, ec);
        return true;
    }
    print_error(program_, "cannot write " + what_ + " " + path_);
    return false;
}

void OutputFile::write(std::string_view text) const {
    if (path_.empty()) return;
    const bool in_place = write_in_place(path_);
    const std::string target = in_place ? path_ : temporary_for(path_);
    std::ofstream out(target, std::ios::trunc);
    out << text;
    out.close();
    std::error_code ec;
    // Whole or not at all: the temporary file replaces the result only once it is complete.
    if (out && !in_place) fs::rename(target, path_, ec);
    if (!out || ec) {
        if (!in_place) fs::remove(target, ec);
        print_error(program_, "cannot write " + what_ + " " + path_);
    }
}

}  // namespace app

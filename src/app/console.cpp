#include "app/console.hpp"

#include <unistd.h>

namespace app {

ProgressLine::ProgressLine(std::string program, bool enabled)
    : program_(std::move(program)), enabled_(enabled), tty_(isatty(STDERR_FILENO) == 1) {}

void ProgressLine::update(const std::string& text) {
    if (!enabled_) return;
    if (tty_) {
        std::fprintf(stderr, "\r%s: %s\x1b[K", program_.c_str(), text.c_str());
        open_line_ = true;
    } else {
        std::fprintf(stderr, "%s: %s\n", program_.c_str(), text.c_str());
    }
    std::fflush(stderr);
}

void ProgressLine::finish() {
    if (open_line_) std::fputc('\n', stderr);
    open_line_ = false;
}

void ProgressLine::info(const std::string& text) {
    if (enabled_) warn(text);
}

void ProgressLine::warn(const std::string& text) {
    finish();
    std::fprintf(stderr, "%s: %s\n", program_.c_str(), text.c_str());
    std::fflush(stderr);
}

void print_error(const std::string& program, const std::string& message) {
    std::fprintf(stderr, "%s: error: %s\n", program.c_str(), message.c_str());
}

}  // namespace app

#pragma once
// Progress and result output. Progress goes to stderr: on a terminal one status line that
// updates in place, otherwise one line per report (for logs and CI).

#include <cstdio>
#include <string>

namespace app {

class ProgressLine {
  public:
    ProgressLine(std::string program, bool enabled);
    ~ProgressLine() { finish(); }
    ProgressLine(const ProgressLine&) = delete;  // owns the terminal line
    ProgressLine& operator=(const ProgressLine&) = delete;

    void update(const std::string& text);
    // Ends an in-place line so the next output starts on a fresh one.
    void finish();
    // An informational line (suppressed when progress is disabled by --quiet).
    void info(const std::string& text);
    // A line that matters even with --quiet (a reconnect, say).
    void warn(const std::string& text);

  private:
    std::string program_;
    bool enabled_;
    bool tty_;
    bool open_line_{false};
};

// One-line error on stderr: "<program>: error: <message>".
void print_error(const std::string& program, const std::string& message);

}  // namespace app

#include "metrics/process.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace metrics {
namespace {

// Field `n` (1-based, as in proc(5)) of /proc/self/stat; the command name in field 2 may hold
// spaces, so counting starts after its closing parenthesis.
double stat_field(int n) {
    std::ifstream in("/proc/self/stat");
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = all.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream fields(all.substr(close + 2));
    std::string field;
    for (int i = 3; i <= n && fields >> field; ++i)
        if (i == n) return std::stod(field);
    return 0;
}

double boot_time_s() {
    std::ifstream in("/proc/stat");
    std::string key;
    double value = 0;
    while (in >> key) {
        if (key == "btime" && in >> value) return value;
        in.ignore(4096, '\n');
    }
    return 0;
}

double open_fds() {
    std::error_code ec;
    double n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++n;
    return n;
}

}  // namespace

void write_process_metrics(Exposition& out) {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    out.counter("process_cpu_seconds_total", "User and system CPU time spent, seconds",
                seconds(usage.ru_utime) + seconds(usage.ru_stime));
    out.gauge("process_resident_memory_bytes", "Resident memory size, bytes",
              stat_field(24) * page);
    out.gauge("process_virtual_memory_bytes", "Virtual memory size, bytes", stat_field(23));
    out.gauge("process_open_fds", "Open file descriptors", open_fds());
    out.gauge("process_max_fds", "Limit of open file descriptors",
              static_cast<double>(files.rlim_cur));
    out.gauge("process_start_time_seconds", "Start time since the Unix epoch, seconds",
              boot_time_s() + stat_field(22) / ticks);
}

}  // namespace metrics

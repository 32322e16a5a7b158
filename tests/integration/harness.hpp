#pragma once
// Test harness for integration tests: a real Mosquitto started with the project's config on a
// free loopback port, and the programs run as child processes. Everything is a child of the
// test and is stopped by PID and reaped (nothing reaps orphans on these machines).

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace harness {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A port on 127.0.0.1 that nothing listens on right now.
std::uint16_t free_port();
bool port_accepts(std::uint16_t port);
// True when process `pid` itself listens on 127.0.0.1:port (not some other process).
bool process_listens_on(pid_t pid, std::uint16_t port);

class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;  // owns the directory
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }
    fs::path operator/(const std::string& name) const { return path_ / name; }

  private:
    fs::path path_;
};

std::string read_file(const fs::path& path);
nlohmann::json read_json(const fs::path& path);
// Waits until the file contains `needle`; false on timeout.
bool wait_for_text(const fs::path& path, const std::string& needle,
                   std::chrono::milliseconds timeout);

// Waits until the file shows `label` followed by a number >= `at_least` (progress lines).
bool wait_for_count(const fs::path& path, const std::string& label, std::uint64_t at_least,
                    std::chrono::milliseconds timeout);

class ChildProcess {
  public:
    // Starts argv[0] with stdout and stderr going to the given files.
    ChildProcess(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err);
    ~ChildProcess();                             // SIGKILL and reap if still running
    ChildProcess(const ChildProcess&) = delete;  // owns the child
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    void signal(int sig) const;
    // Waits for the exit and returns the exit status (128+N if killed by signal N), or nothing
    // on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    bool running();

  private:
    pid_t pid_{-1};
    std::optional<int> status_;
};

// Runs a program to completion (bounded) and gives its status, stdout and stderr.
struct RunResult {
    int status;
    std::string out;
    std::string err;
};
RunResult run(const std::vector<std::string>& argv, const fs::path& dir,
              std::chrono::milliseconds timeout = 120s);

struct BrokerSettings {
    // Directives replacing those of config/mosquitto.conf with the same name.
    std::map<std::string, std::string> overrides;
    std::vector<std::string> extra_lines;
    // Settings of the test's listener (TLS certificates, require_certificate), written after
    // its `listener` line.
    std::vector<std::string> listener_lines{};
};

class Broker {
  public:
    explicit Broker(const BrokerSettings& settings = {});
    ~Broker();
    Broker(const Broker&) = delete;  // owns the broker process
    Broker& operator=(const Broker&) = delete;
    std::uint16_t port() const { return port_; }
    std::string port_str() const { return std::to_string(port_); }
    const fs::path& dir() const { return dir_.path(); }
    pid_t pid() const { return process_->pid(); }
    // A graceful restart: SIGTERM (Mosquitto saves its persistence file), wait, and start again
    // on the same port with the same configuration and persistence.
    void restart();
    // A crash: SIGKILL (Mosquitto keeps only its last autosaved persistence), then start again
    // on the same port with the same configuration and persistence.
    void crash_and_restart();
    // A node going away for a while: SIGTERM and wait (the port then refuses), and later
    // start_again() with the same configuration and persistence.
    void stop();
    void start_again();

  private:
    bool start(const BrokerSettings& settings);  // false if Mosquitto exited (port taken)

    TempDir dir_;
    BrokerSettings settings_;
    std::uint16_t port_;
    std::optional<ChildProcess> process_;
};

// A Mosquitto bridged to the one on `port`, as a cluster of two: the telemetry, status and
// control topics flow both ways at QoS 1, and the bridge's session on the other node persists
// across restarts (what was queued for it arrives when it comes back).
BrokerSettings bridged_to(std::uint16_t port);

// Paths of the built programs and the project's files, set by CMake.
std::string publisher_path();
std::string commander_path();
std::string subscriber_path();
fs::path project_config();
fs::path project_dir();

}  // namespace harness

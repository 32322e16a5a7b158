#include "harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace harness {

std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw std::runtime_error("bind");
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

bool port_accepts(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

bool process_listens_on(pid_t pid, std::uint16_t port) {
    // The listening socket on 127.0.0.1:port (state 0A) in /proc/net/tcp, and its inode...
    std::ifstream tcp("/proc/net/tcp");
    std::string line;
    std::getline(tcp, line);  // header
    char wanted[32];
    std::snprintf(wanted, sizeof wanted, "0100007F:%04X", port);
    std::string inode;
    while (std::getline(tcp, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state, queues, timer, retr, uid, timeout;
        fields >> slot >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >>
            inode;
        if (local == wanted && state == "0A") break;
        inode.clear();
    }
    if (inode.empty()) return false;
    // ... must be one of the process's own descriptors.
    const std::string target = "socket:[" + inode + "]";
    std::error_code ec;
    for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        std::error_code link_ec;
        if (fs::read_symlink(fd.path(), link_ec).string() == target) return true;
    }
    return false;
}

TempDir::TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "mqtt-telemetry-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    if (std::getenv("KEEP_TEST_DIRS") == nullptr) fs::remove_all(path_, ec);
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

nlohmann::json read_json(const fs::path& path) {
    return nlohmann::json::parse(read_file(path));
}

bool wait_for_text(const fs::path& path, const std::string& needle,
                   std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (read_file(path).find(needle) != std::string::npos) return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

bool wait_for_count(const fs::path& path, const std::string& label, std::uint64_t at_least,
                    std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        const std::string text = read_file(path);
        for (auto pos = text.find(label); pos != std::string::npos;
             pos = text.find(label, pos + 1)) {
            if (std::strtoull(text.c_str() + pos + label.size(), nullptr, 10) >= at_least)
                return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const fs::path& out,
                           const fs::path& err) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int in = ::open("/dev/null", O_RDONLY);
        ::dup2(in, 0);
        ::dup2(o, 1);
        ::dup2(e, 2);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
}

ChildProcess::~ChildProcess() {
    if (!status_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int st = 0;
        ::waitpid(pid_, &st, 0);
    }
}

void ChildProcess::signal(int sig) const {
    ::kill(pid_, sig);
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!status_) {
        int st = 0;
        const pid_t r = ::waitpid(pid_, &st, WNOHANG);
        if (r == pid_) {
            status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(10ms);
    }
    return status_;
}

bool ChildProcess::running() {
    return !wait(0ms).has_value();
}

RunResult run(const std::vector<std::string>& argv, const fs::path& dir,
              std::chrono::milliseconds timeout) {
    static int counter = 0;
    const std::string tag = std::to_string(++counter);
    const fs::path out = dir / ("run" + tag + ".out"), err = dir / ("run" + tag + ".err");
    ChildProcess p(argv, out, err);
    const auto status = p.wait(timeout);
    return {status.value_or(-1), read_file(out), read_file(err)};
}

Broker::Broker(const BrokerSettings& settings) : settings_(settings), port_(0) {
    // A port found free may be taken by another test before Mosquitto binds it: then Mosquitto
    // exits, and we try again on another port.
    for (int attempt = 1;; ++attempt) {
        port_ = free_port();
        if (start(settings)) return;
        if (attempt == 3)
            throw std::runtime_error(
                "mosquitto did not start: " + read_file(dir() / "mosquitto.err") +
                read_file(dir() / "mosquitto.log"));
    }
}

bool Broker::start(const BrokerSettings& settings) {
    std::ifstream base(project_config());
    if (!base) throw std::runtime_error("cannot read " + project_config().string());
    std::ofstream conf(dir() / "mosquitto.conf");
    std::string line;
    while (std::getline(base, line)) {
        const std::string key = line.substr(0, line.find(' '));
        if (settings.overrides.count(key) == 0) conf << line << '\n';
    }
    for (const auto& [key, value] : settings.overrides) conf << key << ' ' << value << '\n';
    for (const std::string& extra : settings.extra_lines) conf << extra << '\n';
    conf << "listener " << port_ << " 127.0.0.1\n";
    for (const std::string& setting : settings.listener_lines) conf << setting << '\n';
    conf << "persistence_location " << dir().string() << "/\n";
    conf << "log_dest file " << (dir() / "mosquitto.log").string() << '\n';
    conf << "user "
         << (::getuid() == 0       ? "root"
             : std::getenv("USER") ? std::getenv("USER")
                                   : "root")
         << '\n';
    conf.close();
    process_.emplace(
        std::vector<std::string>{"mosquitto", "-c", (dir() / "mosquitto.conf").string()},
        dir() / "mosquitto.out", dir() / "mosquitto.err");
    // Started means: this Mosquitto process listens on the port, not just anything there.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!process_listens_on(process_->pid(), port_)) {
        if (!process_->running()) {
            process_.reset();
            return false;
        }
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("mosquitto did not listen within 10 s: " +
                                     read_file(dir() / "mosquitto.log"));
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

void Broker::restart() {
    process_->signal(SIGTERM);
    if (!process_->wait(10s)) throw std::runtime_error("mosquitto did not stop on SIGTERM");
    start_again();
}

void Broker::stop() {
    process_->signal(SIGTERM);
    if (!process_->wait(10s)) throw std::runtime_error("mosquitto did not stop on SIGTERM");
}

BrokerSettings bridged_to(std::uint16_t port) {
    BrokerSettings s;
    s.extra_lines = {"connection cluster-bridge",
                     "address 127.0.0.1:" + std::to_string(port),
                     "topic sensors/# both 1",
                     "topic telemetry/# both 1",
                     "cleansession false",
                     "restart_timeout 1",
                     "bridge_attempt_unsubscribe false"};
    return s;
}

void Broker::crash_and_restart() {
    process_->signal(SIGKILL);
    if (!process_->wait(10s)) throw std::runtime_error("mosquitto did not die on SIGKILL");
    start_again();
}

void Broker::start_again() {
    process_.reset();
    if (!start(settings_))
        throw std::runtime_error("mosquitto did not start again on port " + port_str() + ": " +
                                 read_file(dir() / "mosquitto.log"));
}

Broker::~Broker() {
    if (!process_) return;
    process_->signal(SIGTERM);
    if (!process_->wait(10s)) process_->signal(SIGKILL);
    process_->wait(10s);
}

std::string commander_path() {
    return MQTT_COMMANDER_PATH;
}

std::string publisher_path() {
    return MQTT_PUBLISHER_PATH;
}
std::string subscriber_path() {
    return MQTT_SUBSCRIBER_PATH;
}
fs::path project_config() {
    return PROJECT_SOURCE_DIR "/config/mosquitto.conf";
}

fs::path project_dir() {
    return PROJECT_SOURCE_DIR;
}

}  // namespace harness

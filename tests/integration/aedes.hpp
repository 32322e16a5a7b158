#pragma once
// aedes (a second broker implementation, Node.js, MQTT 3.1.1) on free loopback ports, a child
// of the test stopped by PID: plain MQTT always, and where asked MQTT over WebSocket on a port
// of its own, plain (ws://) or TLS (wss://), with the fault the WebSocket tests inject.

#include <signal.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace harness {

struct AedesSettings {
    bool websocket{false};
    // wss:// with this certificate and key (PEM files).
    std::optional<std::pair<std::string, std::string>> tls;
    bool mqtts{false};  // with `tls`: MQTT over TLS (mqtts://) on a port of its own too
    // Each WebSocket connection is closed this long after it opens, with this close code.
    std::optional<std::pair<int, int>> close_after_ms_with_code;
};

// ws:// beside plain MQTT, optionally closing each WebSocket after ms with code.
inline AedesSettings with_websocket(std::optional<std::pair<int, int>> close = std::nullopt) {
    AedesSettings s;
    s.websocket = true;
    s.close_after_ms_with_code = close;
    return s;
}

// wss:// beside plain MQTT.
inline AedesSettings with_secure_websocket(const std::string& certificate, const std::string& key) {
    AedesSettings s;
    s.tls = std::pair{certificate, key};
    return s;
}

class AedesBroker {
  public:
    explicit AedesBroker(const TempDir& dir, AedesSettings settings = {})
        : dir_(dir.path()), port_(free_port()) {
        if (settings.websocket) ws_port_ = free_port();
        if (settings.tls) wss_port_ = free_port();
        if (settings.tls && settings.mqtts) mqtts_port_ = free_port();
        command_ = {"node", (project_dir() / "tests/interop/aedes_broker.js").string(),
                    std::to_string(port_)};
        if (ws_port_) command_.insert(command_.end(), {"--ws", std::to_string(ws_port_)});
        if (settings.tls)
            command_.insert(command_.end(), {"--wss", std::to_string(wss_port_),
                                             settings.tls->first, settings.tls->second});
        if (mqtts_port_)
            command_.insert(command_.end(), {"--tls", std::to_string(mqtts_port_),
                                             settings.tls->first, settings.tls->second});
        if (settings.close_after_ms_with_code)
            command_.insert(
                command_.end(),
                {"--ws-close-after", std::to_string(settings.close_after_ms_with_code->first),
                 std::to_string(settings.close_after_ms_with_code->second)});
        if (!fs::exists(project_dir() / "tests/interop/node_modules/ws"))
            throw std::runtime_error("aedes and ws are not installed: run scripts/deps --test");
        start();
    }
    ~AedesBroker() { stop(); }
    AedesBroker(const AedesBroker&) = delete;  // owns the broker process
    AedesBroker& operator=(const AedesBroker&) = delete;

    // A broker restart: the process ends, a new one listens on the same ports (aedes keeps
    // nothing: sessions and queued messages are gone, as after a crash without persistence).
    void restart() {
        stop();
        start();
    }
    void stop() {
        if (!process_) return;
        process_->signal(SIGTERM);
        if (!process_->wait(10s)) process_->signal(SIGKILL);
        process_->wait(10s);
        process_.reset();
    }

    std::string port_str() const { return std::to_string(port_); }
    std::string ws_port_str() const { return std::to_string(ws_port_); }
    std::string wss_port_str() const { return std::to_string(wss_port_); }
    std::string mqtts_port_str() const { return std::to_string(mqtts_port_); }

  private:
    void start() {
        process_.emplace(command_, dir_ / "aedes.out", dir_ / "aedes.err");
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        while (!wait_for_text(dir_ / "aedes.out", "listening", 20ms) ||
               (ws_port_ && !process_listens_on(process_->pid(), ws_port_))) {
            if (!process_->running() || std::chrono::steady_clock::now() > deadline)
                throw std::runtime_error("aedes did not start: " + read_file(dir_ / "aedes.err"));
        }
    }

    fs::path dir_;
    std::uint16_t port_;
    std::uint16_t ws_port_{0};
    std::uint16_t wss_port_{0};
    std::uint16_t mqtts_port_{0};
    std::vector<std::string> command_;
    std::optional<ChildProcess> process_;
};

}  // namespace harness

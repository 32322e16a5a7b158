#pragma once
// A /metrics endpoint on the program's own event loop: no thread, no thread per request. Each
// scrape is one short HTTP/1.1 exchange (the answer closes the connection), so the endpoint
// keeps no state between scrapes and a stuck or hostile client costs one slot until its
// deadline.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "net/event_loop.hpp"
#include "net/socket.hpp"

namespace metrics {

// Where to listen: "PORT" (every interface, like an exporter's ":PORT") or "ADDRESS:PORT"
// ("[::1]:PORT" for IPv6). Port 0 picks a free port. nullopt: not of that form.
struct ListenAddress {
    std::string address;  // numeric; "0.0.0.0" for every interface
    std::uint16_t port{0};
};
std::optional<ListenAddress> parse_listen_address(const std::string& text);

class HttpEndpoint final : private net::EventLoop::Watcher {
  public:
    using Render = std::function<std::string()>;  // the /metrics body, made per scrape
    using Ready = std::function<bool()>;          // /readyz: 200 while true, 503 before
    static constexpr std::size_t kMaxClients = 32;
    static constexpr std::size_t kMaxRequest = std::size_t{8} * 1024;
    static constexpr auto kClientDeadline = std::chrono::seconds(10);

    // Listens at once. Throws std::system_error naming the address (in use, not ours, ...).
    HttpEndpoint(net::EventLoop& loop, const ListenAddress& where, Render render);
    ~HttpEndpoint() override;
    HttpEndpoint(const HttpEndpoint&) = delete;  // the loop holds pointers to it
    HttpEndpoint& operator=(const HttpEndpoint&) = delete;

    // /readyz for a readiness probe (without one it answers 200 once listening); /healthz
    // answers 200 while the loop runs (a liveness probe).
    void on_ready_probe(Ready ready) { ready_ = std::move(ready); }
    std::uint16_t port() const { return port_; }  // the bound port (useful with port 0)
    std::string url() const;
    std::uint64_t scrapes() const { return scrapes_; }

  private:
    class Exchange;
    void on_ready(bool readable, bool writable, bool hangup) override;  // the listener
    void accept_all();
    void pause_accepting();
    // The whole answer to one request head; counts the scrape.
    std::string answer(const std::string& head);
    void close(int fd);

    net::EventLoop& loop_;
    Render render_;
    Ready ready_;
    net::FileDescriptor listener_;
    std::string address_;
    std::uint16_t port_{0};
    std::map<int, std::unique_ptr<Exchange>> exchanges_;
    std::optional<net::EventLoop::TimerId> resume_timer_;
    std::uint64_t scrapes_{0};
};

}  // namespace metrics

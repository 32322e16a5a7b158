#pragma once
// Asynchronous host name resolution on the event loop, with c-ares (Debian libc-ares-dev):
// getaddrinfo() blocks, and one blocked lookup would stall every connection on the loop.
// c-ares reads /etc/hosts and /etc/resolv.conf as the system resolver does.
//
// One Resolver answers one lookup and then is done. The callback runs from inside the loop; it
// must not destroy the Resolver (post that to a timer: c-ares is still on the stack).

#include <ares.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "net/event_loop.hpp"
#include "net/socket.hpp"

namespace net {

class Resolver {
  public:
    // Addresses in the order to try them, or an empty list and the reason.
    using Callback = std::function<void(std::vector<SocketAddress>, std::string error)>;

    explicit Resolver(EventLoop& loop);
    ~Resolver();
    Resolver(const Resolver&) = delete;  // owns the c-ares channel and its loop registrations
    Resolver& operator=(const Resolver&) = delete;

    void resolve(const std::string& host, std::uint16_t port, Callback callback);

  private:
    // One c-ares socket on the loop.
    class Socket final : public EventLoop::Watcher {
      public:
        Socket(Resolver& owner, int fd) : owner_(owner), fd_(fd) {}
        void on_ready(bool readable, bool writable, bool hangup) override;

      private:
        Resolver& owner_;
        int fd_;
    };

    static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable);
    static void on_result(void* arg, int status, int timeouts, ares_addrinfo* result);
    void process(ares_socket_t read_fd, ares_socket_t write_fd);
    void arm_timer();

    EventLoop& loop_;
    ares_channel channel_{nullptr};
    std::map<int, std::unique_ptr<Socket>> sockets_;
    std::optional<EventLoop::TimerId> timer_;
    Callback callback_;
};

}  // namespace net

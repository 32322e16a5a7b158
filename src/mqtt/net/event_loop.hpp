#pragma once
// A single-threaded epoll loop. Each watched descriptor has a Watcher called with its
// readiness; one loop serves any number of connections (device fleets), so no thread is
// needed per connection.

#include <chrono>

#include "mqtt/net/socket.hpp"

namespace mqtt::net {

class EventLoop {
  public:
    class Watcher {
      public:
        virtual ~Watcher() = default;
        virtual void on_ready(bool readable, bool writable, bool hangup) = 0;
    };

    EventLoop();
    EventLoop(const EventLoop&) = delete;  // owns the epoll descriptor
    EventLoop& operator=(const EventLoop&) = delete;

    void watch(int fd, Watcher& watcher, bool want_write);
    void update(int fd, Watcher& watcher, bool want_write);
    void unwatch(int fd);
    // Waits at most `timeout` and dispatches what is ready. Returns the number of ready
    // descriptors (0 on timeout or when a signal interrupted the wait).
    int wait(std::chrono::milliseconds timeout);

  private:
    FileDescriptor epoll_;
};

}  // namespace mqtt::net

#pragma once
// One MQTT connection on an event loop: a socket, a Session, and batched I/O around it.
// Reads take everything available (64 KiB at a time) and feed every packet in it to the
// session; writes send the whole outbox at once. That is the point of this engine: one
// syscall per batch instead of one or more per packet.

#include <optional>
#include <string>
#include <vector>

#include "mqtt/net/event_loop.hpp"
#include "mqtt/net/socket.hpp"
#include "mqtt/protocol/session.hpp"

namespace mqtt::net {

class Connection final : public EventLoop::Watcher {
  public:
    Connection(EventLoop& loop, protocol::Session::Config config,
               protocol::Session::Handler& handler);
    ~Connection() override { close(std::nullopt); }
    Connection(const Connection&) = delete;  // registered with the loop by address
    Connection& operator=(const Connection&) = delete;

    // Connects the socket and queues CONNECT (throws mqtt::Error when the TCP connect fails).
    void open(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout);
    // Writes as much of the session's outbox as the socket takes now.
    void flush();
    // Closes the socket; `reason` (if any) is kept for closed_reason().
    void close(std::optional<std::string> reason);

    bool is_open() const { return static_cast<bool>(fd_); }
    const std::string& closed_reason() const { return closed_reason_; }
    protocol::Session& session() { return session_; }
    std::size_t bytes_read_last() const { return bytes_read_last_; }

    void on_ready(bool readable, bool writable, bool hangup) override;

  private:
    void read_available();
    void fail(const protocol::Session::Failure& failure);

    EventLoop& loop_;
    protocol::Session session_;
    FileDescriptor fd_;
    std::vector<char> in_;
    std::size_t in_used_{0};
    bool want_write_{false};
    std::size_t bytes_read_last_{0};
    std::string closed_reason_;
};

}  // namespace mqtt::net

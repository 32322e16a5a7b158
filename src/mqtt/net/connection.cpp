#include "mqtt/net/connection.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace mqtt::net {

namespace {
constexpr std::size_t kReadChunk = 64 * 1024;
}

Connection::Connection(EventLoop& loop, protocol::Session::Config config,
                       protocol::Session::Handler& handler)
    : loop_(loop), session_(std::move(config), handler), in_(4 * kReadChunk) {}

void Connection::open(const std::string& host, std::uint16_t port,
                      std::chrono::milliseconds timeout) {
    close(std::nullopt);
    fd_ = connect_tcp(host, port, timeout);
    closed_reason_.clear();
    in_used_ = 0;
    want_write_ = false;
    loop_.watch(fd_.get(), *this, false);
    session_.connection_opened(protocol::Session::Clock::now());
    flush();
}

void Connection::close(std::optional<std::string> reason) {
    if (!fd_) return;
    loop_.unwatch(fd_.get());
    fd_.reset();
    session_.connection_lost();
    if (reason) closed_reason_ = std::move(*reason);
}

void Connection::flush() {
    std::string& out = session_.outbox();
    std::size_t written = 0;
    while (fd_ && written < out.size()) {
        const ssize_t n =
            ::send(fd_.get(), out.data() + written, out.size() - written, MSG_NOSIGNAL);
        if (n > 0) {
            written += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        const std::string why = n < 0 ? std::strerror(errno) : "write returned 0";
        out.clear();
        close("write failed: " + why);
        return;
    }
    out.erase(0, written);
    const bool want = !out.empty();
    if (fd_ && want != want_write_) {
        want_write_ = want;
        loop_.update(fd_.get(), *this, want);
    }
}

void Connection::fail(const protocol::Session::Failure& failure) {
    // Tell the broker why before closing (MQTT 5 DISCONNECT with a reason code, 4.13).
    session_.outbox().clear();
    if (session_.version() == protocol::Version::V5)
        protocol::encode(protocol::Disconnect{failure.reason, {}}, session_.version(),
                         session_.outbox());
    flush();
    close("protocol error: " + failure.message);
}

void Connection::read_available() {
    bytes_read_last_ = 0;
    for (;;) {
        if (in_.size() - in_used_ < kReadChunk)
            in_.resize(in_.size() * 2);  // a packet larger than the buffer
        const ssize_t n = ::recv(fd_.get(), in_.data() + in_used_, in_.size() - in_used_, 0);
        if (n == 0) return close("connection closed by the broker");
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            return close(std::string("read failed: ") + std::strerror(errno));
        }
        const std::size_t space = in_.size() - in_used_;
        in_used_ += static_cast<std::size_t>(n);
        bytes_read_last_ += static_cast<std::size_t>(n);
        const auto result = session_.feed({in_.data(), in_used_}, protocol::Session::Clock::now());
        if (result.failure) return fail(*result.failure);
        if (result.consumed > 0) {
            std::memmove(in_.data(), in_.data() + result.consumed, in_used_ - result.consumed);
            in_used_ -= result.consumed;
        }
        if (!fd_) return;                                 // a handler closed us
        if (static_cast<std::size_t>(n) < space) return;  // drained: skip the EAGAIN round trip
    }
}

void Connection::on_ready(bool readable, bool writable, bool hangup) {
    if (readable || hangup) read_available();
    if (fd_ && (writable || !session_.outbox().empty())) flush();
    if (fd_ && hangup && !readable) close("connection closed by the broker");
}

}  // namespace mqtt::net

#include "mqtt/net/connection.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace mqtt::net {

namespace {
constexpr std::size_t kReadChunk = std::size_t{64} * 1024;
}

Connection::Connection(EventLoop& loop, protocol::Session& session, Owner& owner)
    : loop_(loop), session_(session), owner_(owner) {}

Connection::~Connection() {
    close();
}

void Connection::open(const std::string& host, std::uint16_t port) {
    close();
    last_connect_error_ = 0;
    if (auto address = numeric_address(host, port)) {
        addresses_ = {*address};
        try_next_address();
        return;
    }
    state_ = State::Resolving;
    resolver_ = std::make_unique<Resolver>(loop_);
    resolver_->resolve(host, port, [this](std::vector<SocketAddress> found, std::string error) {
        // c-ares is still on the stack: continue from a timer, where the resolver can go.
        addresses_ = std::move(found);
        posted_ = loop_.add_timer(EventLoop::Clock::now(), [this, error = std::move(error)] {
            posted_.reset();
            resolver_.reset();
            if (addresses_.empty())
                return fail(ErrorKind::Unreachable, "host name does not resolve (" + error + ")");
            try_next_address();
        });
    });
}

void Connection::adopt(FileDescriptor fd) {
    close();
    set_non_blocking(fd.get());
    fd_ = std::move(fd);
    state_ = State::Open;
    want_write_ = false;
    loop_.watch(fd_.get(), *this, false);
    owner_.on_transport_up();
}

void Connection::try_next_address() {
    while (!addresses_.empty()) {
        const SocketAddress address = addresses_.front();
        addresses_.erase(addresses_.begin());
        int error = 0;
        FileDescriptor fd = start_tcp_connect(address, error);
        if (!fd) {
            last_connect_error_ = error;
            continue;
        }
        fd_ = std::move(fd);
        state_ = State::Connecting;
        want_write_ = true;  // writable = the connect finished
        loop_.watch(fd_.get(), *this, true);
        return;
    }
    const int error = last_connect_error_ != 0 ? last_connect_error_ : EHOSTUNREACH;
    fail_later(error == ECONNREFUSED ? ErrorKind::Refused : ErrorKind::Unreachable,
               describe_connect_error(error));
}

void Connection::on_connect_finished() {
    if (const int error = connect_result(fd_.get()); error != 0) {
        release_socket();
        last_connect_error_ = error;
        return try_next_address();  // the next address of the name, if any
    }
    addresses_.clear();
    state_ = State::Open;
    want_write_ = false;
    loop_.update(fd_.get(), false);
    owner_.on_transport_up();
}

void Connection::release_socket() {
    if (fd_) loop_.unwatch(fd_.get());
    fd_.reset();
    want_write_ = false;
}

void Connection::close() {
    if (posted_) loop_.cancel(*posted_);
    posted_.reset();
    resolver_.reset();
    addresses_.clear();
    partial_.clear();
    release_socket();
    if (state_ == State::Open) session_.connection_lost();
    state_ = State::Closed;
}

void Connection::fail(ErrorKind kind, const std::string& reason) {
    close();
    owner_.on_transport_closed(kind, reason);  // last: the owner may open() again
}

void Connection::fail_later(ErrorKind kind, std::string reason) {
    // Reached from inside open(): tell the owner from the loop, not from its own call.
    release_socket();
    state_ = State::Connecting;
    posted_ = loop_.add_timer(EventLoop::Clock::now(), [this, kind, reason = std::move(reason)] {
        posted_.reset();
        fail(kind, reason);
    });
}

void Connection::flush() {
    if (state_ != State::Open || reading_) return;
    std::string& out = session_.outbox();
    std::size_t written = 0;
    while (written < out.size()) {
        const ssize_t n =
            ::send(fd_.get(), out.data() + written, out.size() - written, MSG_NOSIGNAL);
        if (n > 0) {
            written += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        const std::string why = n < 0 ? std::strerror(errno) : "write returned 0";
        return fail(ErrorKind::ConnectionLost, "write failed: " + why);
    }
    out.erase(0, written);
    const bool want = !out.empty();
    if (want != want_write_) {
        want_write_ = want;
        loop_.update(fd_.get(), want);
    }
}

void Connection::read_available() {
    // Reads go to the loop's shared buffer, after the partial packet kept from the last read.
    std::vector<char>& in = loop_.read_buffer();
    if (in.size() < 4 * kReadChunk) in.resize(4 * kReadChunk);
    std::size_t used = partial_.size();
    if (in.size() < used + kReadChunk) in.resize(used + kReadChunk);
    std::memcpy(in.data(), partial_.data(), used);
    partial_.clear();
    reading_ = true;
    struct EndOfRead {  // also when a handler throws
        bool& reading;
        ~EndOfRead() { reading = false; }
    } end_of_read{reading_};
    for (;;) {
        if (in.size() - used < kReadChunk) in.resize(in.size() * 2);  // a packet larger than it
        const std::size_t space = in.size() - used;
        const ssize_t n = ::recv(fd_.get(), in.data() + used, space, 0);
        if (n == 0) return fail(ErrorKind::ConnectionLost, closed_by_broker(used));
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            return fail(ErrorKind::ConnectionLost,
                        std::string("read failed: ") + std::strerror(errno));
        }
        used += static_cast<std::size_t>(n);
        loop_.note_read(static_cast<std::size_t>(n));
        const auto result = session_.feed({in.data(), used}, protocol::Session::Clock::now());
        if (result.failure) {
            reading_ = false;
            owner_.on_read_batch_end();  // the packets before the bad one were handled
            flush();                     // their acknowledgements, and the session's DISCONNECT
            if (state_ == State::Open)
                fail(ErrorKind::Protocol, "protocol error: " + result.failure->message);
            return;
        }
        std::memmove(in.data(), in.data() + result.consumed, used - result.consumed);
        used -= result.consumed;
        if (state_ != State::Open) return;               // a handler closed us
        if (static_cast<std::size_t>(n) < space) break;  // drained: skip the EAGAIN round trip
    }
    partial_.assign(in.data(), used);
    reading_ = false;
    owner_.on_read_batch_end();
}

std::string Connection::closed_by_broker(std::size_t unfinished_bytes) {
    if (unfinished_bytes == 0) return "connection closed by the broker";
    return "connection closed by the broker in the middle of a packet (" +
           std::to_string(unfinished_bytes) + " bytes of a truncated packet)";
}

void Connection::on_ready(bool readable, bool writable, bool hangup) {
    if (state_ == State::Connecting) {
        if (writable || hangup) on_connect_finished();
        return;
    }
    if (state_ != State::Open) return;
    if (readable || hangup) read_available();
    if (state_ == State::Open && (writable || !session_.outbox().empty())) flush();
    if (state_ == State::Open && hangup && !readable)
        fail(ErrorKind::ConnectionLost, closed_by_broker(partial_.size()));
}

}  // namespace mqtt::net

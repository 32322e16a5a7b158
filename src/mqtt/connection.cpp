#include "mqtt/connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace mqtt {

namespace {
constexpr std::size_t kReadChunk = std::size_t{64} * 1024;
}

Connection::Connection(net::EventLoop& loop, protocol::Session& session, Owner& owner)
    : loop_(loop), session_(session), owner_(owner) {}

Connection::~Connection() {
    close();
}

void Connection::open(const std::string& host, std::uint16_t port,
                      std::shared_ptr<const net::TlsContext> tls,
                      std::optional<net::WebSocketOptions> websocket) {
    close();
    last_connect_error_ = 0;
    host_ = host;
    port_ = port;
    closed_by_close_frame_ = false;
    tls_context_ = std::move(tls);
    websocket_ = std::move(websocket);
    steps_ = {};
    step_started_ = net::EventLoop::Clock::now();
    if (auto address = net::numeric_address(host, port)) {
        addresses_ = {*address};
        try_next_address();
        return;
    }
    state_ = State::Resolving;
    resolver_ = std::make_unique<net::Resolver>(loop_);
    resolver_->resolve(
        host, port, [this](std::vector<net::SocketAddress> found, std::string error) {
            // c-ares is still on the stack: continue from a timer, where the resolver can go.
            addresses_ = std::move(found);
            posted_ =
                loop_.add_timer(net::EventLoop::Clock::now(), [this, error = std::move(error)] {
                    posted_.reset();
                    resolver_.reset();
                    if (addresses_.empty())
                        return fail(ErrorKind::Unreachable,
                                    "host name does not resolve (" + error + ")");
                    try_next_address();
                });
        });
}

void Connection::adopt(net::FileDescriptor fd) {
    close();
    net::set_non_blocking(fd.get());
    fd_ = std::move(fd);
    state_ = State::Open;
    want_write_ = false;
    loop_.watch(fd_.get(), *this, false);
    owner_.on_transport_up();
}

void Connection::try_next_address() {
    while (!addresses_.empty()) {
        const net::SocketAddress address = addresses_.front();
        addresses_.erase(addresses_.begin());
        int error = 0;
        net::FileDescriptor fd =
            net::start_tcp_connect(address, error, local_ ? &*local_ : nullptr);
        if (!fd) {
            last_connect_error_ = error;
            continue;
        }
        fd_ = std::move(fd);
        if (state_ == State::Resolving) step_done(steps_.resolve);
        step_started_ = net::EventLoop::Clock::now();  // a failed address's time is not the TCP's
        state_ = State::Connecting;
        want_write_ = true;  // writable = the connect finished
        loop_.watch(fd_.get(), *this, true);
        return;
    }
    const int error = last_connect_error_ != 0 ? last_connect_error_ : EHOSTUNREACH;
    fail_later(error == ECONNREFUSED ? ErrorKind::Refused : ErrorKind::Unreachable,
               net::describe_connect_error(error));
}

void Connection::on_connect_finished() {
    if (const int error = net::connect_result(fd_.get()); error != 0) {
        release_socket();
        last_connect_error_ = error;
        return try_next_address();  // the next address of the name, if any
    }
    addresses_.clear();
    step_done(steps_.tcp);
    if (!tls_context_) return stream_up();
    state_ = State::Handshaking;
    tls_ = std::make_unique<net::TlsStream>(*tls_context_, fd_.get(), host_);
    continue_handshake();
}

void Connection::stream_up() {
    if (tls_context_) step_done(steps_.tls);
    if (websocket_) return begin_upgrade();
    open_up();
}

void Connection::open_up() {
    state_ = State::Open;
    want_writable(!wire_out_.empty());
    owner_.on_transport_up();
}

void Connection::begin_upgrade() {
    state_ = State::Upgrading;
    handshake_.emplace(host_, port_, *websocket_, net::new_websocket_key());
    answer_.clear();
    wire_out_ = handshake_->request();
    write_wire();
}

void Connection::read_upgrade_answer() {
    std::array<char, 4096> chunk{};
    for (;;) {
        const auto n = receive(chunk.data(), chunk.size(), 0);
        if (!n) return;  // failed: closed_by_broker() names the handshake
        if (*n == 0) return;
        answer_.append(chunk.data(), *n);
        const auto result = handshake_->feed(answer_);
        using Status = net::WebSocketHandshake::Status;
        if (result.status == Status::Refused)
            // A refusal that may pass (503, 429) is retried like an unreachable broker.
            return fail(result.transient ? ErrorKind::Unreachable : ErrorKind::WebSocket,
                        result.error);
        if (result.status == Status::Accepted) return upgraded(result.consumed);
    }
}

void Connection::upgraded(std::size_t header_length) {
    handshake_.reset();
    framing_ = std::make_unique<net::WebSocketFraming>();
    // Frames that came with the answer's header (a ping, say): handled before anything else.
    const std::string early = answer_.substr(header_length);
    answer_.clear();
    std::string data;
    const auto result = framing_->unwrap(early, data, wire_out_);
    partial_ = std::move(data);  // fed to the session with the next read
    if (result.close || !result.error.empty()) return end_websocket(result);
    step_done(steps_.websocket);
    open_up();
}

void Connection::step_done(std::chrono::microseconds& into) {
    const auto now = net::EventLoop::Clock::now();
    into = std::chrono::duration_cast<std::chrono::microseconds>(now - step_started_);
    step_started_ = now;
}

void Connection::end_websocket(const net::WebSocketFraming::Unwrapped& end) {
    write_wire();  // the close frame that answers, if the socket takes it
    if (state_ == State::Closed) return;
    framing_.reset();  // the closing handshake is done: close() sends no second close frame
    const std::string where = "(path " + websocket_->path + ")";
    if (!end.error.empty())
        return fail(ErrorKind::Protocol, "WebSocket protocol error " + where + ": " + end.error);
    const auto& close = *end.close;
    closed_by_close_frame_ = true;
    const std::string why = "the broker closed the WebSocket " + where + " with " +
                            net::WebSocketFraming::describe(close.code) +
                            (close.reason.empty() ? "" : ": " + close.reason);
    // Going away or restarting passes; a verdict on us (policy, protocol, too big) does not.
    fail(net::WebSocketFraming::transient(close.code) ? ErrorKind::ConnectionLost
                                                      : ErrorKind::WebSocket,
         why);
}

void Connection::continue_handshake() {
    const net::TlsStream::Result r = tls_->handshake();
    switch (r.status) {
        case net::TlsStream::Status::Done:
            return stream_up();
        case net::TlsStream::Status::WantRead:
        case net::TlsStream::Status::WantWrite:
            return want_writable(r.status == net::TlsStream::Status::WantWrite);
        default:
            return fail(ErrorKind::Tls, "TLS handshake failed: " + r.error);
    }
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
    if (framing_ && state_ == State::Open) {  // a close frame, if it fits now
        std::string goodbye;
        framing_->wrap_close(net::WebSocketFraming::kNormalClosure, goodbye);
        send_best_effort(goodbye);
    }
    handshake_.reset();
    framing_.reset();
    wire_out_.clear();
    answer_.clear();
    websocket_end_.reset();
    if (tls_ && state_ == State::Open) tls_->shutdown();  // close_notify, if it fits now
    tls_.reset();
    release_socket();
    if (state_ == State::Open) session_.connection_lost();
    state_ = State::Closed;
}

void Connection::fail(ErrorKind kind, const std::string& reason) {
    tls_.reset();  // no close_notify after a failure
    close();
    owner_.on_transport_closed(kind, reason);  // last: the owner may open() again
}

void Connection::fail_later(ErrorKind kind, std::string reason) {
    // Reached from inside open(): tell the owner from the loop, not from its own call.
    release_socket();
    state_ = State::Connecting;
    posted_ =
        loop_.add_timer(net::EventLoop::Clock::now(), [this, kind, reason = std::move(reason)] {
            posted_.reset();
            fail(kind, reason);
        });
}

void Connection::flush() {
    if (state_ != State::Open || reading_) return;
    std::string& out = session_.outbox();
    if (!framing_) return write_out(out);
    if (!out.empty()) framing_->wrap(out, wire_out_);  // one frame for all of it
    out.clear();
    write_out(wire_out_);
}

void Connection::write_wire() {
    write_out(wire_out_);
}

void Connection::write_out(std::string& out) {
    std::size_t written = 0;
    while (written < out.size()) {
        const auto n = send_some(out.data() + written, out.size() - written);
        if (!n) return;  // the connection failed
        if (*n == 0) break;
        written += *n;
        read_unanswered_ = false;  // the data carries the ACK
    }
    out.erase(0, written);
    want_writable(!out.empty());
}

void Connection::send_best_effort(std::string_view bytes) {
    if (!fd_) return;
    if (tls_) {
        tls_->write(bytes.data(), bytes.size());
        return;
    }
    [[maybe_unused]] const ssize_t n =
        ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

void Connection::want_writable(bool want) {
    if (want == want_write_) return;
    want_write_ = want;
    loop_.update(fd_.get(), want);
}

std::optional<std::size_t> Connection::send_some(const char* data, std::size_t size) {
    if (tls_) {
        const net::TlsStream::Result r = tls_->write(data, size);
        if (r.status == net::TlsStream::Status::Done) return r.bytes;
        if (r.status == net::TlsStream::Status::WantRead ||
            r.status == net::TlsStream::Status::WantWrite)
            return 0;
        if (r.status == net::TlsStream::Status::Closed) {
            fail(ErrorKind::ConnectionLost, "connection closed by the broker");
            return std::nullopt;
        }
        // A broker that refuses us after the handshake (TLS 1.3: no or a bad client
        // certificate) sends an alert before it resets: that alert is the reason to show.
        std::array<char, 512> scratch{};
        const net::TlsStream::Result alert = tls_->read(scratch.data(), scratch.size());
        fail(ErrorKind::Tls, alert.status == net::TlsStream::Status::Failed
                                 ? "the broker ended TLS: " + alert.error
                                 : "write failed: " + r.error);
        return std::nullopt;
    }
    for (;;) {
        const ssize_t n = ::send(fd_.get(), data, size, MSG_NOSIGNAL);
        if (n > 0) return static_cast<std::size_t>(n);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        const std::string why = n < 0 ? std::strerror(errno) : "write returned 0";
        fail(ErrorKind::ConnectionLost, "write failed: " + why);
        return std::nullopt;
    }
}

std::optional<std::size_t> Connection::receive(char* data, std::size_t size, std::size_t used) {
    if (tls_) {
        const net::TlsStream::Result r = tls_->read(data, size);
        switch (r.status) {
            case net::TlsStream::Status::Done:
                return r.bytes;
            case net::TlsStream::Status::WantRead:
                return 0;
            case net::TlsStream::Status::WantWrite:  // TLS needs to send first: wake on writable
                want_writable(true);
                return 0;
            case net::TlsStream::Status::Closed:
                fail(ErrorKind::ConnectionLost, closed_by_broker(used));
                return std::nullopt;
            default:
                fail(ErrorKind::Tls, "the broker ended TLS: " + r.error);
                return std::nullopt;
        }
    }
    for (;;) {
        const ssize_t n = ::recv(fd_.get(), data, size, 0);
        if (n > 0) return static_cast<std::size_t>(n);
        if (n == 0) {
            fail(ErrorKind::ConnectionLost, closed_by_broker(used));
            return std::nullopt;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        fail(ErrorKind::ConnectionLost, std::string("read failed: ") + std::strerror(errno));
        return std::nullopt;
    }
}

void Connection::quick_ack() {
    if (!fd_) return;
    // Linux clears TCP_QUICKACK by itself, hence each time it is needed; setting it sends a
    // delayed ACK at once.
    read_unanswered_ = false;
    const int one = 1;
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
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
        const auto got = read_stream(in, used);
        if (!got) return;  // the connection ended
        if (got->raw == 0) break;
        used += got->added;
        read_unanswered_ = true;
        loop_.note_read(got->raw);
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
        if (state_ != State::Open) return;  // a handler closed us
        if (websocket_end_) {
            reading_ = false;
            owner_.on_read_batch_end();
            flush();
            if (state_ == State::Open) end_websocket(std::exchange(websocket_end_, {}).value());
            return;
        }
        // Drained: skip the EAGAIN round trip (TLS returns one record per read, so it reads on).
        if (!tls_ && got->drained) break;
    }
    partial_.assign(in.data(), used);
    reading_ = false;
    owner_.on_read_batch_end();
}

std::optional<Connection::StreamRead> Connection::read_stream(std::vector<char>& in,
                                                              std::size_t used) {
    if (framing_) return read_websocket(in, used);
    if (in.size() - used < kReadChunk) in.resize(in.size() * 2);  // a packet larger than it
    const std::size_t space = in.size() - used;
    const auto n = receive(in.data() + used, space, used);
    if (!n) return std::nullopt;
    return StreamRead{*n, *n, *n < space};
}

std::optional<Connection::StreamRead> Connection::read_websocket(std::vector<char>& in,
                                                                 std::size_t used) {
    std::vector<char>& frames = loop_.frame_buffer();
    frames.resize(kReadChunk);
    const auto n = receive(frames.data(), frames.size(), used);
    if (!n) return std::nullopt;
    std::string& unwrapped = loop_.unwrap_buffer();
    unwrapped.clear();
    const auto result = framing_->unwrap({frames.data(), *n}, unwrapped, wire_out_);
    if (result.close || !result.error.empty()) websocket_end_ = result;
    if (in.size() - used < unwrapped.size()) in.resize(used + unwrapped.size() + kReadChunk);
    std::memcpy(in.data() + used, unwrapped.data(), unwrapped.size());
    return StreamRead{*n, unwrapped.size(), *n < frames.size()};
}

std::string Connection::closed_by_broker(std::size_t unfinished_bytes) const {
    if (state_ == State::Upgrading)
        return "the server closed the connection during the WebSocket handshake (path " +
               websocket_->path + ")";
    if (unfinished_bytes == 0) return "connection closed by the broker";
    return "connection closed by the broker in the middle of a packet (" +
           std::to_string(unfinished_bytes) + " bytes of a truncated packet)";
}

void Connection::on_ready(bool readable, bool writable, bool hangup) {
    if (state_ == State::Connecting) {
        if (writable || hangup) on_connect_finished();
        return;
    }
    if (state_ == State::Handshaking) return continue_handshake();
    if (state_ == State::Upgrading) {
        if (writable) write_wire();
        if (state_ == State::Upgrading && (readable || hangup || (tls_ && writable)))
            read_upgrade_answer();
        return;
    }
    if (state_ != State::Open) return;
    // TLS may need a read after a writable event (a record it had to send first).
    if (readable || hangup || (tls_ && writable)) read_available();
    if (state_ == State::Open && (writable || has_unwritten())) flush();
    if (state_ == State::Open && hangup && !readable)
        fail(ErrorKind::ConnectionLost, closed_by_broker(partial_.size()));
}

}  // namespace mqtt

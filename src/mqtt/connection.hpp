#pragma once
// The I/O half of one MQTT connection: a socket on an event loop and the batched reads and
// writes around a Session that it does not own. Reads take everything available (64 KiB at a
// time) and feed every whole packet to the session; writes send the whole outbox at once:
// one syscall per batch instead of one or more per packet.
//
// Lifecycle: open() resolves the host (c-ares, or at once for an address), connects without
// blocking, shakes hands for TLS and then WebSocket where asked (each a loop state), and tells
// its Owner when the stream is up or when it closed. Over WebSocket, what the session writes
// goes out as one binary frame per flush, and received frames are unwrapped before the session
// sees them. The Session outlives
// the socket: open() again continues it on a new one. Protocol decisions (what to send when
// something fails) belong to the Session; this class only moves bytes.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mqtt/error.hpp"
#include "mqtt/protocol/session.hpp"
#include "net/event_loop.hpp"
#include "net/resolver.hpp"
#include "net/socket.hpp"
#include "net/tls.hpp"
#include "net/websocket_framing.hpp"
#include "net/websocket_handshake.hpp"

namespace mqtt {

class Connection final : public net::EventLoop::Watcher {
  public:
    class Owner {
      public:
        virtual ~Owner() = default;
        // The stream (TCP, TLS, WebSocket) is up: start the protocol (the session's
        // connection_opened()), then flush().
        virtual void on_transport_up() = 0;
        // The socket closed, or never came up (kind Refused/Unreachable). Not called for
        // close(). The session has already been told (connection_lost()). Called last, so the
        // owner may open() again from here.
        virtual void on_transport_closed(ErrorKind kind, const std::string& reason) = 0;
        // Every packet of one read was handled; the acknowledgements they queued are written
        // after this returns, never before (flush() waits while a read is handled).
        virtual void on_read_batch_end() {}
    };

    // Handshaking: TLS; Upgrading: the WebSocket handshake.
    enum class State { Closed, Resolving, Connecting, Handshaking, Upgrading, Open };

    Connection(net::EventLoop& loop, protocol::Session& session, Owner& owner);
    ~Connection() override;
    Connection(const Connection&) = delete;  // registered with the loop by address
    Connection& operator=(const Connection&) = delete;

    // Starts connecting to host:port; returns at once. With `tls`, the TLS handshake follows
    // the TCP connect (state Handshaking), then with `websocket` the WebSocket handshake (state
    // Upgrading); the owner hears of the stream after them.
    void open(const std::string& host, std::uint16_t port,
              std::shared_ptr<const net::TlsContext> tls = nullptr,
              std::optional<net::WebSocketOptions> websocket = std::nullopt);
    // Connect from this local address (nullopt: the kernel's choice) on every open() after.
    void set_local_address(std::optional<net::SocketAddress> local) { local_ = local; }
    // Takes a socket that is already connected (a socketpair in tests): Open at once, and the
    // owner's on_transport_up() runs before this returns.
    void adopt(net::FileDescriptor fd);
    // Writes as much of the session's outbox as the socket takes now.
    void flush();
    // Bytes the session queued that the socket has not taken yet.
    bool has_unwritten() const { return !session_.outbox().empty() || !wire_out_.empty(); }
    // Bytes were read since the last write: the peer has no ACK of them yet (Linux delays it).
    bool read_unanswered() const { return read_unanswered_; }
    // Acknowledges the bytes read so far at once (TCP_QUICKACK), for an owner about to wait
    // without sending.
    void quick_ack();
    // Closes the socket without telling the owner (the owner asked for it).
    void close();

    State state() const { return state_; }
    // How long each step of the last open() took, for connection workloads; zero for a step
    // it did not take (no name to resolve, no TLS, no WebSocket).
    struct Steps {
        std::chrono::microseconds resolve{0}, tcp{0}, tls{0}, websocket{0};
    };
    const Steps& steps() const { return steps_; }
    // "TLSv1.3 TLS_AES_256_GCM_SHA384" on a TLS connection, else empty.
    std::string tls_description() const { return tls_ ? tls_->description() : std::string(); }
    bool is_open() const { return state_ == State::Open; }
    // The last close came with the server's WebSocket close frame: it gave its reason.
    bool closed_by_close_frame() const { return closed_by_close_frame_; }

    void on_ready(bool readable, bool writable, bool hangup) override;

  private:
    void try_next_address();
    void on_connect_finished();
    void stream_up();
    void open_up();
    void continue_handshake();
    // The WebSocket handshake: send the request, then judge the answer.
    void begin_upgrade();
    void read_upgrade_answer();
    void upgraded(std::size_t header_length);
    // Writes wire_out_ (frames, the handshake request) as far as the socket takes it.
    void write_wire();
    // Writes `out` (the outbox, or wire_out_) as far as the socket takes it, and erases that.
    void write_out(std::string& out);
    // Reads what the socket has onto in[used..]: bytes read from the socket, bytes of MQTT
    // added (fewer over WebSocket), whether the socket is drained; nullopt when the connection
    // ended (it has been failed already).
    struct StreamRead {
        std::size_t raw{0};
        std::size_t added{0};
        bool drained{false};
    };
    std::optional<StreamRead> read_stream(std::vector<char>& in, std::size_t used);
    std::optional<StreamRead> read_websocket(std::vector<char>& in, std::size_t used);
    // A close frame or a broken frame came: the reason and how to fail, once the data before
    // it has been handled.
    void end_websocket(const net::WebSocketFraming::Unwrapped& end);
    // Watches for writability only while something waits to be written.
    void want_writable(bool want);
    void read_available();
    // One read or write on the socket, through TLS if in use: bytes moved, 0 with `blocked`
    // when the socket has nothing (or no room) now, or nullopt when the connection ended (it
    // has been failed already).
    std::optional<std::size_t> receive(char* data, std::size_t size, std::size_t used);
    std::optional<std::size_t> send_some(const char* data, std::size_t size);
    std::string closed_by_broker(std::size_t unfinished_bytes) const;
    // Sends `bytes` if the socket takes them now, without failing (a goodbye).
    void send_best_effort(std::string_view bytes);
    // Closes and tells the owner why (deferred to a timer when inside open()).
    void fail(ErrorKind kind, const std::string& reason);
    void fail_later(ErrorKind kind, std::string reason);
    void release_socket();
    // Ends the step under way: its time goes `into`, and the next step starts now.
    void step_done(std::chrono::microseconds& into);

    net::EventLoop& loop_;
    protocol::Session& session_;
    Owner& owner_;
    State state_{State::Closed};
    net::FileDescriptor fd_;
    bool read_unanswered_{false};
    std::unique_ptr<net::Resolver> resolver_;
    std::string host_;  // the name the TLS certificate must show
    std::shared_ptr<const net::TlsContext> tls_context_;
    std::unique_ptr<net::TlsStream> tls_;
    std::vector<net::SocketAddress> addresses_;  // still to try
    std::uint16_t port_{0};
    // WebSocket: the options, the handshake while Upgrading (with the answer so far), the
    // framing once Open, the bytes framed and not yet written, and how the stream ended.
    std::optional<net::WebSocketOptions> websocket_;
    std::optional<net::WebSocketHandshake> handshake_;
    std::string answer_;
    std::unique_ptr<net::WebSocketFraming> framing_;
    std::string wire_out_;
    std::optional<net::WebSocketFraming::Unwrapped> websocket_end_;
    bool closed_by_close_frame_{false};
    int last_connect_error_{0};
    std::optional<net::EventLoop::TimerId> posted_;  // a deferred step (resolve result, failure)
    std::string partial_;                            // the start of a packet not yet complete
    bool want_write_{false};
    bool reading_{false};  // handling a read: hold the writes until its batch ends
    std::optional<net::SocketAddress> local_;  // bind before connecting (--bind-address)
    Steps steps_;
    net::EventLoop::Clock::time_point step_started_{};
};

}  // namespace mqtt

#pragma once
// The MQTT client interface the programs use. Engines live behind it (today libmosquitto);
// nothing here knows about sensors or payload schemas.
//
// Threading: none. Every handler runs on the caller's thread inside connect(), subscribe(),
// poll() or disconnect(), so the programs need no locks.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mqtt {

enum class QoS : std::uint8_t { AtMostOnce = 0, AtLeastOnce = 1, ExactlyOnce = 2 };

enum class ProtocolVersion { V311, V5 };

enum class Engine {
    Native,        // our batched engine (src/mqtt/protocol + src/mqtt/net)
    Libmosquitto,  // the broker project's client library: a reference peer and a baseline
};

struct ConnectOptions {
    std::string host{"127.0.0.1"};
    std::uint16_t port{1883};
    std::string client_id;  // empty: the engine makes one up
    std::optional<std::string> username;
    std::optional<std::string> password;
    std::chrono::seconds keepalive{30};
    bool clean_session{true};
    std::chrono::milliseconds connect_timeout{10'000};
    // Unconfirmed outgoing messages allowed at once; publish() refuses more. Bounds memory
    // whatever the number of messages a program sends.
    std::size_t max_inflight{1000};
    // MQTT 5: unacknowledged QoS 1/2 messages the broker may send us at once. Mosquitto uses it
    // instead of its max_inflight_messages for MQTT 5 clients.
    std::uint16_t receive_maximum{1000};
    ProtocolVersion version{ProtocolVersion::V5};
    // When a broker refuses MQTT 5 as an unsupported protocol version, reconnect with 3.1.1.
    bool version_fallback{true};
};

enum class ErrorKind {
    Refused,         // nothing listens there (TCP connection refused)
    Unreachable,     // name does not resolve, no route, or no answer in time
    BadCredentials,  // CONNACK: bad user name or password
    NotAuthorised,   // CONNACK / SUBACK: not authorised
    Protocol,        // the broker broke or rejected the protocol
    ConnectionLost,  // an established connection went away
};

// Errors carry a kind (for exit statuses) and a one-line message naming host:port.
class Error : public std::runtime_error {
  public:
    Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const { return kind_; }

  private:
    ErrorKind kind_;
};

struct Message {
    std::string_view topic;
    std::string_view payload;
    QoS qos;
    bool retain;
};

using PublishId = std::uint32_t;

class Client {
  public:
    using MessageHandler = std::function<void(const Message&)>;
    // reason >= 0x80: the broker refused the message (MQTT 5 reason code, e.g. 0x87, 0x97).
    using ConfirmHandler = std::function<void(PublishId, std::uint8_t reason)>;

    virtual ~Client() = default;

    // Connects and waits for the broker's CONNACK. Throws Error.
    virtual void connect(const ConnectOptions& options) = 0;
    // Subscribes to every filter and waits for the SUBACK. Throws Error if one is refused.
    virtual void subscribe(const std::vector<std::string>& filters, QoS qos) = 0;
    // Hands one message to the engine. Returns its id, or nullopt while max_inflight messages
    // are unconfirmed (poll() and try again). Confirmation arrives through on_confirmed: PUBACK
    // for QoS 1, PUBCOMP for QoS 2, written to the socket for QoS 0. Throws Error.
    virtual std::optional<PublishId> publish(std::string_view topic, std::string_view payload,
                                             QoS qos) = 0;
    // Runs network I/O for at most `timeout` (less when a signal arrives) and dispatches the
    // handlers. Throws Error(ConnectionLost) when the connection is gone.
    virtual void poll(std::chrono::milliseconds timeout) = 0;
    virtual std::size_t in_flight() const = 0;
    // Messages that may be in flight at once: max_inflight, or less if the broker's Receive
    // Maximum (MQTT 5) says so. publish() returns nullopt while in_flight() reaches it.
    virtual std::size_t window() const = 0;
    // The protocol in use after connect(), e.g. "MQTT 5" or "MQTT 3.1.1 (the broker refused 5)".
    virtual std::string protocol_description() const = 0;
    // Sends DISCONNECT and closes the connection. Never throws.
    virtual void disconnect() noexcept = 0;

    void on_message(MessageHandler handler) { message_handler_ = std::move(handler); }
    void on_confirmed(ConfirmHandler handler) { confirm_handler_ = std::move(handler); }

  protected:
    MessageHandler message_handler_;
    ConfirmHandler confirm_handler_;
};

std::unique_ptr<Client> make_client(Engine engine);
// An Error whose message names the broker: "broker <host>:<port>: <reason>".
Error broker_error(ErrorKind kind, std::string_view host, std::uint16_t port,
                   std::string_view reason);
// Throws the Error for a refused CONNACK (reason code, with MQTT 3.1.1 codes mapped onto MQTT 5).
[[noreturn]] void throw_connack_refusal(const ConnectOptions& options, std::uint8_t reason);
std::unique_ptr<Client> make_native_client();
std::unique_ptr<Client> make_libmosquitto_client();

}  // namespace mqtt

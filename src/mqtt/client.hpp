#pragma once
// The MQTT client interface the programs use; the engines (mqtt/engines.hpp) live behind it.
// Nothing here knows about sensors or payload schemas.
//
// Threading: none. Every handler runs on the caller's thread inside poll() (or a blocking
// helper that polls), so the programs need no locks. A handler must not call poll().

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mqtt/error.hpp"
#include "mqtt/reason_code.hpp"
#include "net/tls.hpp"
#include "net/websocket_handshake.hpp"

namespace mqtt {

enum class QoS : std::uint8_t { AtMostOnce = 0, AtLeastOnce = 1, ExactlyOnce = 2 };

enum class ProtocolVersion { V311, V5 };

// TLS to the broker, as mosquitto_pub/sub configure it. The broker's certificate chain is
// verified against cafile/capath (or the system's store), and its name against the host
// unless `insecure`.
using TlsOptions = net::TlsOptions;  // net/tls.hpp

// A last will: the broker publishes it when the connection ends without DISCONNECT (a device
// that lost power, say) [MQTT-3.1.2-8].
struct WillOptions {
    std::string topic;
    std::string payload;
    QoS qos{QoS::AtLeastOnce};
    bool retain{true};
    bool operator==(const WillOptions&) const = default;
};

struct BrokerAddress {
    std::string host;
    std::uint16_t port{1883};
    bool operator==(const BrokerAddress&) const = default;
};

struct ConnectOptions {
    std::string host{"127.0.0.1"};
    std::uint16_t port{1883};
    // Other nodes of the same broker cluster (native engine). The first connect tries host:port,
    // then each of these while they are unreachable. After a lost connection the first attempt
    // goes to the same node (a network blip keeps the session there), later attempts go round
    // the nodes in turn, so a client whose node went away continues on another.
    std::vector<BrokerAddress> failover;
    std::string client_id;  // empty: the engine makes one up
    std::optional<std::string> username;
    std::optional<std::string> password;
    std::optional<TlsOptions> tls;  // none: plain TCP
    // MQTT over WebSocket (native engine), over TLS too with `tls` (wss://).
    std::optional<net::WebSocketOptions> websocket;
    std::optional<WillOptions> will;
    std::string bind_address;  // a numeric local address to connect from; empty: any
    std::chrono::seconds keepalive{30};
    // false: a persistent session (MQTT 3.1.1 Clean Session 0, MQTT 5 Clean Start 0 with
    // session_expiry), so the broker keeps our subscriptions and queues messages while we are
    // away.
    bool clean_session{true};
    std::chrono::seconds session_expiry{0};  // MQTT 5
    // After an established connection is lost, reconnect (native engine): pauses double from
    // reconnect_min up to reconnect_max, with jitter; after give_up_after without a broker,
    // poll() throws Error(ConnectionLost). Zero give_up_after: no reconnecting.
    std::chrono::milliseconds reconnect_min{100};
    std::chrono::milliseconds reconnect_max{10'000};
    std::chrono::milliseconds give_up_after{0};
    // Resolve, TCP connect and CONNACK together must finish within this.
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

// host:port first, then the failover nodes.
std::vector<BrokerAddress> broker_list(const ConnectOptions& options);
// How the options reach the broker, as reports name it: "tcp", "tls", "ws" or "wss".
std::string transport_name(const ConnectOptions& options);

// A way to the broker of its own (a fleet profile group's host): the nodes, TLS and WebSocket
// that replace those of the ConnectOptions for the connections that take it.
struct BrokerEndpoint {
    std::vector<BrokerAddress> nodes;  // the first, then its failover; never empty
    std::optional<TlsOptions> tls;
    std::optional<net::WebSocketOptions> websocket;
    bool operator==(const BrokerEndpoint&) const = default;
};
std::string transport_name(const BrokerEndpoint& endpoint);
// `options` reaching the broker through `endpoint`.
ConnectOptions through(ConnectOptions options, const BrokerEndpoint& endpoint);
// The same options with broker_list()[index] first and the others, in list order after it, as
// the failover: how a fleet puts each connection on its own node.
ConnectOptions starting_at(ConnectOptions options, std::size_t index);

// An MQTT 5 User Property (3.3.2.3.7): a name and a value, both UTF-8.
struct UserProperty {
    std::string_view key;
    std::string_view value;
};

struct Message {
    std::string_view topic;  // views valid only during the handler
    std::string_view payload;
    QoS qos;
    bool retain;
    std::span<const UserProperty> user_properties{};  // MQTT 5; in the order received
    // MQTT 5 request/response [MQTT-4.10]: where the sender wants its answer, and the bytes it
    // wants back with it to tell answers apart. Empty when absent.
    std::string_view response_topic{};
    std::string_view correlation_data{};
};

// What a request or a response carries besides its payload (MQTT 5, 3.3.2.3.5-6): a request
// names its Response Topic, an answer echoes the request's Correlation Data.
struct Correlation {
    std::string_view response_topic;
    std::string_view correlation_data;
    // An answer's request came on this topic: a client of many connections answers on the one
    // subscribed to it (a device answers over its own connection). Not sent.
    std::string_view request_topic{};
};

// Identifies a message from publish() to its confirmation. Unique among the messages in flight
// only, QoS 0 ones included: engines reuse ids once a message is confirmed (MQTT packet
// identifiers, 1 to 65,535; a QoS 0 message has none and gets one above that range).
using PublishId = std::uint64_t;
using SubscribeId = std::uint32_t;

struct Confirmation {
    PublishId id{0};
    // PUBACK/PUBCOMP reason: a failure (>= 0x80, MQTT 5, e.g. 0x87 not authorised, 0x97 quota
    // exceeded) means the broker refused the message. QoS 0: Success once written.
    ReasonCode reason{ReasonCode::Success};
    std::chrono::steady_clock::time_point published_at{};  // when publish() took it
    bool accepted() const { return !is_failure(reason); }
};

// A lost connection that came back.
struct Reconnection {
    std::string cause;     // why the connection was lost
    double outage_s{0.0};  // from the loss to the new CONNACK
    int attempts{0};
    // The broker still had our session. False with a persistent session means the broker lost
    // what it had queued for us while we were away.
    bool session_present{false};
    // The connection was dropped on purpose (vanish_for: a simulated device losing power).
    bool deliberate{false};
};

// How long one step of connecting took (native engine), for connection workloads: the
// handshakes of each attempt in order, then its CONNACK (with the broker's reason, a refusal
// too), each SUBACK, and after a lost connection the whole outage.
struct StepTiming {
    enum class Step {
        Resolve,    // the host name (c-ares); not taken for a numeric address
        Tcp,        // connect() to its completion
        Tls,        // the TLS handshake
        WebSocket,  // the HTTP upgrade
        Connack,    // the stream up (CONNECT sent) to the CONNACK
        Suback,     // SUBSCRIBE queued to its SUBACK
        Unsuback,   // UNSUBSCRIBE queued to its UNSUBACK
        Outage,     // a lost connection to the CONNACK that ended its outage
    };
    Step step{Step::Tcp};
    std::chrono::microseconds took{0};
    bool reconnect{false};                   // an attempt after a lost connection
    ReasonCode reason{ReasonCode::Success};  // Connack, Suback: the broker's answer
    bool deliberate{false};                  // Outage: the drop was asked for (vanish_for)
};

class Client {
  public:
    using MessageHandler = std::function<void(const Message&)>;
    using ConfirmHandler = std::function<void(const Confirmation&)>;
    using ReconnectHandler = std::function<void(const Reconnection&)>;
    using BatchHandler = std::function<void()>;
    using ConnectedHandler = std::function<void()>;
    using FailureHandler = std::function<void(const Error&)>;
    using StepHandler = std::function<void(const StepTiming&)>;

    Client() = default;
    virtual ~Client() = default;
    Client(const Client&) = delete;  // handlers capture the owner; engines own sockets
    Client& operator=(const Client&) = delete;

    // --- Non-blocking operations: many clients can share one event loop.

    // Begins connecting: name resolution, TCP connect, CONNECT. Progress happens in poll();
    // connected() turns true on an accepted CONNACK; a failure is thrown by poll() as Error.
    virtual void start_connect(const ConnectOptions& options) = 0;
    virtual bool connected() const = 0;
    // Queues a SUBSCRIBE for every filter; the SUBACK arrives in poll() (see subscribe()).
    virtual SubscribeId start_subscribe(const std::vector<std::string>& filters, QoS qos) = 0;
    // Queues an UNSUBSCRIBE of these filters (native engine; others throw Error); its
    // UNSUBACK is only timed (on_step_timed). They are not subscribed again after a reconnect.
    virtual void start_unsubscribe(const std::vector<std::string>& filters);
    // Hands one message to the engine. Returns its id, or nullopt while window() messages are
    // unconfirmed or the engine is reconnecting (poll() and try again). Confirmation arrives
    // through on_confirmed: PUBACK for QoS 1, PUBCOMP for QoS 2, written to the socket for QoS 0.
    // Throws Error.
    virtual std::optional<PublishId> publish(std::string_view topic, std::string_view payload,
                                             QoS qos) = 0;
    // The same with the retain flag: the broker keeps it as the topic's last value for later
    // subscribers (a device's online status). Engines without it throw Error.
    virtual std::optional<PublishId> publish_retained(std::string_view topic,
                                                      std::string_view payload, QoS qos);
    // The same as publish() with MQTT 5 user properties in the PUBLISH. Throws Error over MQTT
    // 3.1.1 and in engines without it.
    virtual std::optional<PublishId> publish_with_properties(
        std::string_view topic, std::string_view payload, QoS qos,
        std::span<const UserProperty> properties);
    // The same as publish() with a Response Topic and Correlation Data (the empty ones left
    // out). Throws Error where there is one to send over MQTT 3.1.1, which has neither, and in
    // engines without them.
    virtual std::optional<PublishId> publish_correlated(std::string_view topic,
                                                        std::string_view payload, QoS qos,
                                                        const Correlation& correlation);
    // Closes the connection that publishes `topic` without DISCONNECT, as a device that loses
    // power does (the broker publishes its will), and reconnects it after `away`; its
    // unconfirmed messages are sent again then. Returns false if that connection is not up.
    // Engines without it throw Error.
    virtual bool vanish_for(std::string_view topic, std::chrono::milliseconds away);
    // Runs network I/O for at most `timeout` (less when a signal arrives) and dispatches the
    // handlers. Throws Error when connecting failed or the connection is gone. Microseconds, so
    // that a paced sender wakes when a message is due, not at the next whole millisecond.
    virtual void poll(std::chrono::microseconds timeout) = 0;
    virtual std::size_t in_flight() const = 0;
    // Messages that may be in flight at once: max_inflight, or less if the broker's Receive
    // Maximum (MQTT 5) says so.
    virtual std::size_t window() const = 0;
    // Whether the broker stated how many messages it takes in flight (MQTT 5 Receive Maximum,
    // 65,535 when absent). Over MQTT 3.1.1 it cannot, and window() is only our own limit.
    virtual bool broker_states_window() const = 0;
    // The connection speaks MQTT 5 (which is when the broker states its window): properties
    // such as a Response Topic can be sent.
    bool speaks_mqtt5() const { return broker_states_window(); }
    // The protocol in use once connected, e.g. "MQTT 5" or "MQTT 3.1.1 (the broker refused 5)".
    virtual std::string protocol_description() const = 0;
    // Sends DISCONNECT and closes the connection. A persistent MQTT 5 session ends with it
    // (Session Expiry 0) unless kept for a later process to resume. Never throws.
    enum class SessionAfter { End, Keep };
    virtual void disconnect(SessionAfter after) noexcept = 0;
    void disconnect() noexcept { disconnect(SessionAfter::End); }
    // Whether on_batch_end holds back acknowledgements (see there).
    virtual bool acknowledges_after_batch_end() const { return false; }
    // Whether every connection's own subscriptions (MultiClient's ConnectionPlan) have their
    // SUBACK; a refused one is thrown by poll(). One connection subscribes by subscribe(),
    // which waits for its SUBACK: always true.
    virtual bool subscriptions_acknowledged() const { return true; }

    // --- Blocking helpers for a program with one client: they poll() until done.

    // Connects and waits for the CONNACK. Throws Error.
    void connect(const ConnectOptions& options);
    // Subscribes and waits for the SUBACK. Throws Error naming the first refused filter.
    void subscribe(const std::vector<std::string>& filters, QoS qos);

    void on_message(MessageHandler handler) { message_handler_ = std::move(handler); }
    void on_confirmed(ConfirmHandler handler) { confirm_handler_ = std::move(handler); }
    void on_reconnected(ReconnectHandler handler) { reconnect_handler_ = std::move(handler); }
    // Called after the messages of one read batch were handled and before their PUBACKs are
    // written (native engine): a consumer that makes the batch durable here loses nothing to
    // its own crash. An exception from it ends poll() with no PUBACK of the batch sent.
    void on_batch_end(BatchHandler handler) { batch_handler_ = std::move(handler); }
    // For owners of many clients on one loop, which poll() none of them (native engine): each
    // accepted CONNACK, first or after a reconnect; and the failure that poll() would throw,
    // once, when it happens. on_connected runs inside the engine's CONNACK handling: publish
    // from a loop timer, not from the handler.
    void on_connected(ConnectedHandler handler) { connected_handler_ = std::move(handler); }
    void on_failed(FailureHandler handler) { failure_handler_ = std::move(handler); }
    // Each step of connecting and subscribing as it ends (native engine; libmosquitto does not
    // tell).
    void on_step_timed(StepHandler handler) { step_handler_ = std::move(handler); }

  protected:
    // Engines report events through these.
    void deliver(const Message& message) const {
        if (message_handler_) message_handler_(message);
    }
    void confirm(const Confirmation& confirmation) const {
        if (confirm_handler_) confirm_handler_(confirmation);
    }
    void subscribed(SubscribeId id, std::vector<ReasonCode> reasons) {
        subacks_[id] = std::move(reasons);
    }
    void reconnected(const Reconnection& reconnection) const {
        if (reconnect_handler_) reconnect_handler_(reconnection);
    }
    void batch_ended() const {
        if (batch_handler_) batch_handler_();
    }
    void now_connected() const {
        if (connected_handler_) connected_handler_();
    }
    void failed(const Error& error) const {
        if (failure_handler_) failure_handler_(error);
    }
    void timed(const StepTiming& timing) const {
        if (step_handler_) step_handler_(timing);
    }

  private:
    // Polls until `done`, for at most `limit`; throws Error(Unreachable) naming `what` if the
    // broker does not answer in time. The one wait loop of both engines.
    template <typename Done>
    void wait_for(Done done, std::chrono::milliseconds limit, std::string_view what);

    MessageHandler message_handler_;
    ConfirmHandler confirm_handler_;
    ReconnectHandler reconnect_handler_;
    BatchHandler batch_handler_;
    ConnectedHandler connected_handler_;
    FailureHandler failure_handler_;
    StepHandler step_handler_;
    std::map<SubscribeId, std::vector<ReasonCode>> subacks_;  // until subscribe() reads them
    // Of the last connect(), for the blocking helpers' errors (not all of ConnectOptions: a
    // fleet holds thousands of clients).
    std::string host_;
    std::uint16_t port_{0};
    std::chrono::milliseconds connect_timeout_{0};
};

}  // namespace mqtt

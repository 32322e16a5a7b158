#pragma once
// The client side of one MQTT session as a state machine with no I/O inside: it is fed the
// bytes that arrived and the current time, and it leaves the bytes to send in outbox(); events
// go to a Handler. Packet identifiers, the in-flight window, the QoS 1 and 2 flows, keepalive
// and resending after a reconnect live here, so they can be tested without a socket.
//
// When the owner must act:
//   connection_opened()  after the TCP connection is up: queues CONNECT.
//   feed()               with every chunk read; decodes whole packets, keeps partial ones.
//   tick()               at next_deadline() at the latest: keepalive PINGREQ and its timeout.
//   connection_lost()    when the socket closed; unconfirmed messages are kept for the resend
//                        that follows the next CONNACK [MQTT-4.4.0-1].
//   outbox()             after any call: write it and erase what was written.
// When feed() or tick() return a Failure, the session has already given up on the connection
// (state Closed) and left a DISCONNECT with the reason in the outbox (MQTT 5, 4.13): the owner
// writes it and closes the socket. The session itself, with its unconfirmed messages, outlives
// the socket: the next connection_opened() continues it.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "mqtt/protocol/codec.hpp"

namespace mqtt::protocol {

// The packet-identifier budget: identifiers are 16 bits, and 16 of them stay free for SUBSCRIBE
// while the window is full, so no window may exceed this. The options check against it, so a
// window the session would have to lower is refused instead.
inline constexpr std::size_t kMaxWindow = 65535 - 16;

// A PUBLISH the broker said in its CONNACK it cannot take (MQTT 5, 3.2.2.3): larger than its
// Maximum Packet Size [MQTT-3.1.2-24], above its Maximum QoS [MQTT-3.2.2-11], or retained where
// Retain Available is 0 [MQTT-3.2.2-14]. It is never sent, and waiting will not change it.
class BrokerLimit : public std::length_error {
  public:
    using std::length_error::length_error;
};

class Session {
  public:
    using Clock = std::chrono::steady_clock;

    // The CONNECT packet itself carries every connect setting (MQTT 5 properties included:
    // Session Expiry Interval, Receive Maximum); the session sends it as given.
    struct Config {
        Connect connect;
        std::size_t max_inflight{1000};  // our window; the broker's Receive Maximum may lower it
    };

    class Handler {
      public:
        virtual ~Handler() = default;
        virtual void on_connack(const Connack& connack) = 0;
        virtual void on_message(const Publish& publish) = 0;
        // A QoS 1/2 message was acknowledged (PUBACK/PUBCOMP). A failure reason (>= 0x80) means
        // the broker refused it (MQTT 5), e.g. 0x87 not authorised. `published_at` is the time
        // given to publish().
        virtual void on_confirmed(std::uint16_t packet_id, ReasonCode reason,
                                  Clock::time_point published_at) = 0;
        virtual void on_suback(const Suback& suback) = 0;
        virtual void on_disconnect(const Disconnect& disconnect) = 0;
    };

    enum class State { Closed, AwaitingConnack, Connected };

    // Why the session gave up on a connection: the owner closes the socket.
    struct Failure {
        ReasonCode reason;  // sent in the DISCONNECT, e.g. 0x81 malformed packet
        std::string message;
    };

    Session(Config config, Handler& handler);

    void connection_opened(Clock::time_point now);
    // Processes every whole packet in `bytes`; returns how many bytes were used (the rest is
    // an incomplete packet to present again with more bytes), or the failure.
    struct FeedResult {
        std::size_t consumed{0};
        std::optional<Failure> failure;
    };
    FeedResult feed(std::string_view bytes, Clock::time_point now);
    void connection_lost();
    // The protocol version of the next connection (the 5 -> 3.1.1 fallback); only while Closed.
    void set_version(Version version);

    // Queues a PUBLISH. Returns the packet identifier (0 for QoS 0), or nothing when the
    // window is full or the session is not connected. `properties`: MQTT 5 user properties,
    // encoded (codec.hpp, append_user_property); over MQTT 3.1.1 they throw BrokerLimit.
    std::optional<std::uint16_t> publish(std::string_view topic, std::string_view payload,
                                         std::uint8_t qos, bool retain, Clock::time_point now,
                                         std::string_view properties = {});
    std::uint16_t subscribe(const std::vector<std::string>& filters, std::uint8_t qos,
                            Clock::time_point now);
    // UNSUBSCRIBE; its UNSUBACK reaches on_suback() with type Unsuback.
    std::uint16_t unsubscribe(const std::vector<std::string>& filters, Clock::time_point now);
    // Queues DISCONNECT. A persistent MQTT 5 session ends with it unless keep_session.
    void disconnect(bool keep_session = false);

    std::optional<Clock::time_point> next_deadline() const;
    std::optional<Failure> tick(Clock::time_point now);
    const Config& config() const { return config_; }

    std::string& outbox() { return outbox_; }
    State state() const { return state_; }
    Version version() const { return config_.connect.version; }
    std::size_t in_flight() const { return in_flight_; }
    std::size_t window() const { return window_; }
    // QoS 2 messages whose PUBREC has not come: each brings one that our PUBREL answers, and
    // the broker's in-flight slot stays taken until it has.
    std::size_t awaiting_pubrec() const { return awaiting_pubrec_; }
    bool can_publish() const { return state_ == State::Connected && in_flight_ < window_; }

  private:
    struct Outgoing {
        std::string packet;      // the encoded PUBLISH, resent with DUP set
        std::uint64_t order{0};  // resends keep the original order [MQTT-4.6.0-1]
        Clock::time_point published_at{};
        std::uint8_t qos{0};
        bool released{false};  // QoS 2: PUBREC received, PUBREL sent
        // QoS 2: the PUBREC's reason (0x10 no matching subscribers), reported with the PUBCOMP,
        // whose own reason cannot say it.
        std::uint8_t pubrec_reason{0};
        bool in_use{false};
    };

    std::uint16_t next_packet_id();
    void use_window(std::size_t window);
    void sent(Clock::time_point now) { last_sent_ = now; }
    std::optional<Failure> handle(const Packet& packet, Clock::time_point now);
    std::optional<Failure> handle_ack(const Ack& ack, Clock::time_point now);
    std::optional<Failure> handle_connack(const Connack& connack, Clock::time_point now);
    void apply_broker_limits(const Properties& properties);
    void handle_publish(const Publish& publish, Clock::time_point now);
    static Failure protocol_error(std::string why);
    // Gives up on the connection: DISCONNECT with the reason (MQTT 5), state Closed.
    Failure give_up(Failure failure);
    void resend_unconfirmed(Clock::time_point now);

    Config config_;
    Handler& handler_;
    State state_{State::Closed};
    std::string outbox_;
    // QoS 1/2 messages awaiting confirmation, indexed by packet identifier. Identifiers cycle
    // through 1..window+16 only (they need be unique among those in flight, 2.2.1), so the slots
    // stay few, lookups are free, and each slot's buffer is reused without allocating.
    std::vector<Outgoing> outgoing_;
    std::size_t in_flight_{0};
    std::size_t awaiting_pubrec_{0};
    std::unordered_set<std::uint16_t> pending_subscribes_;
    std::unordered_set<std::uint16_t> qos2_incoming_;  // PUBREC sent, awaiting PUBREL
    std::uint16_t last_id_{0};
    std::uint64_t order_{0};
    std::size_t window_{0};
    std::size_t id_limit_{0};  // identifiers cycle through 1..id_limit_
    std::uint16_t keepalive_s_;
    Clock::time_point last_sent_{};
    Clock::time_point last_received_{};
    std::optional<Clock::time_point> ping_sent_;
    std::uint32_t max_packet_size_{kMaxRemainingLength};  // what we accept from the broker
    std::uint32_t broker_max_packet_size_{0};  // what the broker accepts (CONNACK); 0: no limit
    std::uint8_t broker_max_qos_{2};           // CONNACK Maximum QoS (absent: 2)
    bool broker_retain_available_{true};       // CONNACK Retain Available (absent: 1)
    void check_broker_accepts(std::string_view topic, std::uint8_t qos, bool retain) const;
    void check_packet_size(std::size_t start, std::string_view topic);
};

}  // namespace mqtt::protocol

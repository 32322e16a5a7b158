// The native engine behind the Client interface: a Session (protocol state, outlives sockets)
// and a Connection (socket and buffers) on an EventLoop, everything on the caller's thread.
// Connecting is a sequence of loop states (resolve, TCP connect, CONNECT/CONNACK, and the
// 5 -> 3.1.1 fallback); the connect timeout and keepalive are loop timers. Publishes accumulate
// in the session's outbox and go out in one write per poll(); acknowledgements come back in
// large reads.

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "mqtt/connection.hpp"
#include "mqtt/engines.hpp"
#include "net/event_loop.hpp"

namespace mqtt {
namespace {

using protocol::Session;
using Clock = Session::Clock;

// After a light round (under 16 KiB) of a stream, a loop of our own may wait 500 µs before the
// next read, so that more packets arrive per wake-up (net/read_batching.hpp): on two cores,
// constant wake-ups take the CPU the broker needs. Measured with scripts/bench (1M, QoS 1):
// 4 KiB/200 µs gave 4.1 µs of client CPU per message, 16 KiB/500 µs 3.0 µs, at the same
// throughput (the broker at 100%). A pause that counts from the start of the round instead gave
// 3.9 µs and 8% less throughput: the subscriber's smaller PUBACK batches cost the broker.
constexpr std::size_t kLightRead = std::size_t{16} * 1024;
constexpr auto kLightReadPause = std::chrono::microseconds(500);
// A subscriber may pause when the broker can send it this many unacknowledged (MQTT 5 Receive
// Maximum): a 500 µs pause then lets through at most ~100 (at ~200k msg/s, above any broker's
// ceiling here), and the broker never waits for our PUBACKs.
constexpr std::uint16_t kPauseMinReceiveMaximum = 256;
// Bound the outbox: write once a batch is this large, even before the next poll().
constexpr std::size_t kOutboxFlushBytes = std::size_t{256} * 1024;

class NativeClient final : public Client, private Session::Handler, private Connection::Owner {
  public:
    NativeClient() : own_loop_(std::make_unique<net::EventLoop>()), loop_(*own_loop_) {
        batch_reads();
    }
    explicit NativeClient(net::EventLoop& loop) : loop_(loop) {}
    ~NativeClient() override {
        cancel_timers();
        // The loop outlives a client on a shared loop: it must not ask a gone client.
        if (batching_) loop_.set_batching({}, nullptr);
    }

    void start_connect(const ConnectOptions& options) override;
    bool connected() const override { return connected_; }
    SubscribeId start_subscribe(const std::vector<std::string>& filters, QoS qos) override;
    void start_unsubscribe(const std::vector<std::string>& filters) override;
    std::optional<PublishId> publish(std::string_view topic, std::string_view payload,
                                     QoS qos) override {
        return publish_with(topic, payload, qos, false);
    }
    std::optional<PublishId> publish_retained(std::string_view topic, std::string_view payload,
                                              QoS qos) override {
        return publish_with(topic, payload, qos, true);
    }
    std::optional<PublishId> publish_with_properties(
        std::string_view topic, std::string_view payload, QoS qos,
        std::span<const UserProperty> properties) override {
        properties_.clear();
        for (const UserProperty& p : properties)
            protocol::append_user_property(properties_, p.key, p.value);
        return publish_with(topic, payload, qos, false, properties_);
    }
    std::optional<PublishId> publish_correlated(std::string_view topic, std::string_view payload,
                                                QoS qos, const Correlation& c) override;
    bool vanish_for(std::string_view topic, std::chrono::milliseconds away) override;
    void poll(std::chrono::microseconds timeout) override;
    std::size_t in_flight() const override {
        return (session_ ? session_->in_flight() : 0) + qos0_unwritten_;
    }
    std::size_t window() const override {
        return session_ ? session_->window() : options_.max_inflight;
    }
    bool broker_states_window() const override {
        return session_ && session_->version() == protocol::Version::V5;
    }
    std::string protocol_description() const override {
        return tls_description_.empty() ? description_ : description_ + " over " + tls_description_;
    }
    using Client::disconnect;
    void disconnect(SessionAfter after) noexcept override;
    bool acknowledges_after_batch_end() const override { return true; }
    // The one client of its loop: pause before reads where no peer waits for us.
    void batch_reads() {
        batching_ = true;
        loop_.set_batching(net::ReadBatching(kLightRead, kLightReadPause),
                           [this] { return peer_waits_on_us(); });
    }

  private:
    std::optional<PublishId> publish_with(std::string_view topic, std::string_view payload, QoS qos,
                                          bool retain, std::string_view properties = {});
    // Session::Handler
    void on_connack(const protocol::Connack& c) override;
    void on_message(const protocol::Publish& p) override {
        received_properties_.clear();
        for (const protocol::Property& property : p.properties.items)
            if (const auto* pair =
                    std::get_if<std::pair<std::string, std::string>>(&property.value))
                received_properties_.push_back({pair->first, pair->second});
        using protocol::PropertyId;
        deliver(Message{p.topic, p.payload, static_cast<QoS>(p.qos), p.retain, received_properties_,
                        p.properties.text(PropertyId::ResponseTopic).value_or(""),
                        p.properties.text(PropertyId::CorrelationData).value_or("")});
    }
    void on_confirmed(std::uint16_t id, ReasonCode reason, Clock::time_point at) override {
        // Without our own pause before this read: the gauge must see the broker's queue, not
        // the delay that pausing adds (else pausing would justify itself).
        if (at != Clock::time_point{})
            queue_.observe(Clock::now() - at - loop_.paused_this_round());
        confirm({id, reason, at});
    }
    void on_suback(const protocol::Suback& s) override;
    void on_disconnect(const protocol::Disconnect& d) override {
        disconnect_reason_ = fmt::format("the broker disconnected: {} (reason code 0x{:02x})",
                                         reason_text(d.reason), d.reason);
        taken_over_ = static_cast<ReasonCode>(d.reason) == ReasonCode::SessionTakenOver;
    }
    // Connection::Owner
    void on_transport_up() override;
    void on_transport_closed(ErrorKind kind, const std::string& reason) override;
    void on_read_batch_end() override {
        try {
            batch_ended();
        } catch (...) {
            // The batch could not be made durable (a sink failed: a full disk). Its PUBACKs
            // must never leave, or the broker forgets messages nobody kept [issue 29]: drop
            // them, and end without a DISCONNECT, so the broker resends to the next process.
            session_->outbox().clear();
            abandoned_ = true;
            throw;
        }
    }

    // Whether a pause before the next read would hold back a peer that waits for us.
    bool peer_waits_on_us() const;
    Session::Config session_config() const;
    void open_connection();
    // The cluster's nodes: host:port (node 0), then ConnectOptions::failover.
    BrokerAddress node() const {
        return node_ == 0 ? BrokerAddress{options_.host, options_.port}
                          : options_.failover[node_ - 1];
    }
    void move_to_next_node() { node_ = (node_ + 1) % (1 + options_.failover.size()); }
    // A first connect that found its node unreachable tries the next node of the list, once each.
    bool try_next_node(const std::string& why);
    // The broker refused MQTT 5: try again with 3.1.1, from the loop (we are inside a callback).
    bool fall_back_to_v311();
    void fail(Error error);
    void on_connect_timeout();
    // Reconnecting: the loss of an established connection starts an outage; attempts follow
    // with growing pauses until a CONNACK, a fatal refusal, or give_up_after.
    void begin_outage(const std::string& cause);
    void schedule_reconnect(const std::string& last_error);
    void retry_at(Clock::time_point when);
    void end_outage(const protocol::Connack& c);
    bool retryable(ReasonCode refusal) const;
    void arm_keepalive();
    void arm_connect_timer();
    void cancel(std::optional<net::EventLoop::TimerId>& timer);
    void cancel_timers();
    // An established connection is gone: reconnect, or fail when reconnecting is off.
    void lose_connection(const std::string& why);
    Error error(ErrorKind kind, const std::string& reason) const {
        return broker_error(kind, node().host, node().port, reason);
    }
    std::size_t flush_and_confirm_qos0();
    // SUBSCRIBE, its time kept for the SUBACK's StepTiming.
    std::uint16_t send_subscribe(const std::vector<std::string>& filters, QoS qos);
    // StepTimings: the handshakes of the connection that just came up; one step from `since`.
    void time_transport_steps();
    void time_step(StepTiming::Step step, Clock::time_point since,
                   ReasonCode reason = ReasonCode::Success, bool deliberate = false);
    void throw_if_failed() const {
        if (failure_) throw *failure_;
    }

    std::unique_ptr<net::EventLoop> own_loop_;  // none when the loop is shared
    net::EventLoop& loop_;
    ConnectOptions options_;
    std::optional<Session> session_;        // created by start_connect; outlives sockets
    std::optional<Connection> connection_;  // reopened for every attempt
    bool connected_{false};
    bool abandoned_{false};  // a batch failed: close without sending anything more
    bool batching_{false};   // this client set the loop's batching policy (batch_reads)
    bool fell_back_{false};
    std::optional<Error> failure_;
    std::optional<net::EventLoop::TimerId> connect_timer_, keepalive_timer_, posted_, retry_timer_;
    // Writes what publish() and start_subscribe() queued at the end of this loop round, so
    // clients on a shared loop need no poll() of their own to send.
    std::optional<net::EventLoop::TimerId> flush_timer_;
    void flush_soon();
    // The current outage, while reconnecting.
    struct Outage {
        Clock::time_point since;
        std::string cause;
        int attempts{0};
        bool deliberate{false};  // vanish_for
    };
    std::optional<Outage> outage_;
    std::size_t node_{0};         // the node connected to, or being tried (see node())
    std::size_t nodes_tried_{1};  // by the first connect
    std::string first_node_error_;
    // Subscriptions to make again when the broker did not keep our session.
    std::vector<std::pair<std::vector<std::string>, QoS>> subscriptions_;
    std::unordered_set<std::uint16_t> resubscribe_ids_;
    std::unordered_map<std::uint16_t, Clock::time_point> subscribe_sent_;  // until the SUBACK
    Clock::time_point transport_up_at_{};  // of the connection being opened (CONNECT sent)
    std::minstd_rand jitter_{std::random_device{}()};
    std::string disconnect_reason_;
    // Another client with our id takes the session (MQTT 5: DISCONNECT 0x8E; 3.1.1: the broker
    // closes soon after our CONNACK): a few in a row end the run instead of a fight for ever.
    static constexpr int kTakeoversToGiveUp = 3;
    bool taken_over_{false};
    int takeovers_in_row_{0};
    Clock::time_point connected_at_{};
    bool taken_over_again();
    std::string takeover_text() const;
    std::string description_;
    std::string tls_description_;  // of the last handshake
    std::string properties_;       // user properties of the PUBLISH being queued, encoded
    std::vector<UserProperty> received_properties_;  // of the message being delivered
    std::shared_ptr<const net::TlsContext> tls_;     // shared by every client with the same options
    std::size_t qos0_unwritten_{0};                  // QoS 0 messages still in the outbox
    // A QoS 0 message has no packet id: it gets the next of these ids (above the packet ids,
    // unique while fewer than 65,536 are unwritten, which the window ensures), confirmed in order.
    PublishId next_qos0_id_{kFirstQos0Id};
    static constexpr PublishId kFirstQos0Id = 0x1'0000;
    net::QueueGauge queue_;  // our messages queued at the broker
};

bool NativeClient::peer_waits_on_us() const {
    if (!session_ || !connected_) return true;
    // A PUBREC on its way wants our PUBREL at once: the broker holds the slot until then.
    if (session_->awaiting_pubrec() > 0) return true;
    // Our PUBACKs clock our sends unless the broker has a queue of ours to work through for
    // longer than the pause (twice: the gauge is a mean).
    if (session_->in_flight() > 0 && queue_.queue_delay() < 2 * kLightReadPause) return true;
    if (subscriptions_.empty()) return false;
    // The broker may send us Receive Maximum messages unacknowledged (MQTT 5); under 3.1.1 its
    // own limit, which we cannot know (Mosquitto's max_inflight_messages: 20 by default).
    return session_->version() != protocol::Version::V5 ||
           options_.receive_maximum < kPauseMinReceiveMaximum;
}

// The one translation of ConnectOptions into the protocol: the CONNECT the session sends.
Session::Config NativeClient::session_config() const {
    Session::Config config;
    protocol::Connect& c = config.connect;
    c.version =
        options_.version == ProtocolVersion::V5 ? protocol::Version::V5 : protocol::Version::V311;
    c.client_id = options_.client_id;
    c.clean_start = options_.clean_session;
    c.keepalive_s = static_cast<std::uint16_t>(options_.keepalive.count());
    c.username = options_.username;
    c.password = options_.password;
    // Sent only over MQTT 5; the 3.1.1 encoder leaves properties out (after a version fallback).
    if (options_.session_expiry.count() != 0)
        c.properties.add(protocol::PropertyId::SessionExpiryInterval,
                         static_cast<std::uint32_t>(options_.session_expiry.count()));
    c.properties.add(protocol::PropertyId::ReceiveMaximum, options_.receive_maximum);
    if (options_.will)
        c.will = protocol::Will{options_.will->topic,
                                options_.will->payload,
                                static_cast<std::uint8_t>(options_.will->qos),
                                options_.will->retain,
                                {}};
    config.max_inflight = std::max<std::size_t>(options_.max_inflight, 1);
    return config;
}

void NativeClient::start_connect(const ConnectOptions& options) {
    cancel_timers();
    options_ = options;
    node_ = 0;
    nodes_tried_ = 1;
    first_node_error_.clear();
    failure_.reset();
    connected_ = false;
    fell_back_ = false;
    outage_.reset();
    subscriptions_.clear();
    resubscribe_ids_.clear();
    subscribe_sent_.clear();
    disconnect_reason_.clear();
    connection_.reset();
    try {
        tls_ = options.tls ? net::TlsContext::shared(*options.tls) : nullptr;
    } catch (const net::TlsSetupError& e) {
        throw Error(ErrorKind::TlsSetup, e.what());
    }
    session_.emplace(session_config(), static_cast<Session::Handler&>(*this));
    connection_.emplace(loop_, *session_, static_cast<Connection::Owner&>(*this));
    if (!options.bind_address.empty())
        connection_->set_local_address(net::numeric_address(options.bind_address, 0));
    description_ = options.version == ProtocolVersion::V5 ? "MQTT 5" : "MQTT 3.1.1";
    arm_connect_timer();
    open_connection();
}

void NativeClient::open_connection() {
    disconnect_reason_.clear();
    taken_over_ = false;
    const BrokerAddress at = node();
    connection_->open(at.host, at.port, tls_, options_.websocket);
}

bool NativeClient::try_next_node(const std::string& why) {
    if (outage_ || connected_ || nodes_tried_ > options_.failover.size()) return false;
    first_node_error_ += fmt::format("{}{}:{}: {}", first_node_error_.empty() ? "" : "; ",
                                     node().host, node().port, why);
    ++nodes_tried_;
    connection_->close();
    move_to_next_node();
    cancel(connect_timer_);
    arm_connect_timer();
    posted_ = loop_.add_timer(Clock::now(), [this] {
        posted_.reset();
        open_connection();
    });
    return true;
}

void NativeClient::on_transport_up() {
    time_transport_steps();
    tls_description_ = connection_->tls_description();
    session_->connection_opened(Clock::now());
    connection_->flush();
}

void NativeClient::on_connect_timeout() {
    using State = Connection::State;
    const auto ms = options_.connect_timeout.count();
    const State state = connection_->state();
    if (state == State::Connecting || state == State::Resolving)
        if (try_next_node(fmt::format("no answer within {} ms", ms))) return;
    connection_->close();
    if (outage_) return schedule_reconnect(fmt::format("no CONNACK within {} ms", ms));
    if (state == State::Resolving)
        return fail(error(ErrorKind::Unreachable,
                          fmt::format("host name did not resolve within {} ms", ms)));
    if (state == State::Handshaking)
        return fail(error(ErrorKind::Tls,
                          fmt::format("the TLS handshake did not finish within {} ms", ms)));
    if (state == State::Upgrading)
        return fail(
            error(ErrorKind::Unreachable,
                  fmt::format("the WebSocket handshake (path {}) did not finish within {} ms",
                              options_.websocket->path, ms)));
    if (state == State::Connecting)
        return fail(
            error(ErrorKind::Unreachable, fmt::format("unreachable (no answer within {} ms)", ms)));
    fail(error(ErrorKind::Unreachable, fmt::format("no CONNACK within {} ms", ms)));
}

bool NativeClient::fall_back_to_v311() {
    // A 3.1.1-only broker answers an MQTT 5 CONNECT with return code 1 (0x84), or closes the
    // connection [MQTT-3.1.2-2]. Falling back keeps such brokers working; the description
    // tells the user it happened.
    if (!options_.version_fallback || fell_back_ || session_->version() != protocol::Version::V5)
        return false;
    fell_back_ = true;
    connection_->close();
    session_->set_version(protocol::Version::V311);
    description_ = "MQTT 3.1.1 (the broker refused MQTT 5)";
    posted_ = loop_.add_timer(Clock::now(), [this] {
        posted_.reset();
        open_connection();
    });
    return true;
}

void NativeClient::on_connack(const protocol::Connack& c) {
    const auto reason = static_cast<ReasonCode>(c.reason);
    if (reason == ReasonCode::UnsupportedProtocolVersion && fall_back_to_v311()) return;
    time_step(StepTiming::Step::Connack, transport_up_at_, reason);
    if (is_failure(reason)) {
        connection_->close();
        if (outage_ && retryable(reason))
            return schedule_reconnect(fmt::format("CONNACK refused: {}", reason_text(reason)));
        return fail(connack_refusal(node().host, node().port, options_.username, reason));
    }
    connected_ = true;
    connected_at_ = Clock::now();
    first_node_error_.clear();
    cancel(connect_timer_);
    arm_keepalive();
    if (outage_) end_outage(c);
    now_connected();
}

bool NativeClient::retryable(ReasonCode refusal) const {
    // The broker is there but cannot take us now; credentials and authorisation are final.
    switch (refusal) {
        case ReasonCode::ServerUnavailable:
        case ReasonCode::ServerBusy:
        case ReasonCode::ServerShuttingDown:
        case ReasonCode::ConnectionRateExceeded:
        case ReasonCode::QuotaExceeded:
        case ReasonCode::UnspecifiedError:
        case ReasonCode::ImplementationSpecificError:
            return true;
        default:
            return false;
    }
}

void NativeClient::begin_outage(const std::string& cause) {
    connected_ = false;
    cancel(connect_timer_);
    cancel(keepalive_timer_);
    outage_ = Outage{Clock::now(), cause, 0};
    qos0_unwritten_ = 0;  // lost with the socket: at most once, never confirmed
    schedule_reconnect(cause);
}

bool NativeClient::vanish_for(std::string_view, std::chrono::milliseconds away) {
    if (!connected_ || !connection_) return false;
    connection_->close();  // no DISCONNECT: the broker publishes our will [MQTT-3.1.2-8]
    connected_ = false;
    cancel(keepalive_timer_);
    qos0_unwritten_ = 0;
    outage_ = Outage{Clock::now(), "dropped on purpose (churn)", 0, true};
    retry_at(Clock::now() + away);
    return true;
}

void NativeClient::schedule_reconnect(const std::string& last_error) {
    const auto now = Clock::now();
    if (now - outage_->since >= options_.give_up_after)
        return fail(error(
            ErrorKind::ConnectionLost,
            fmt::format("connection lost: {}; gave up after {:.1f} s without the broker (last "
                        "attempt: {})",
                        outage_->cause, std::chrono::duration<double>(now - outage_->since).count(),
                        last_error)));
    // Full jitter over the upper half: clients that lost the broker together spread out.
    const auto doubled = options_.reconnect_min * (1LL << std::min(outage_->attempts, 20));
    const auto cap = std::min<std::chrono::milliseconds>(doubled, options_.reconnect_max);
    std::uniform_int_distribution<long long> spread(cap.count() / 2, cap.count());
    retry_at(now + std::chrono::milliseconds(spread(jitter_)));
}

void NativeClient::retry_at(Clock::time_point when) {
    retry_timer_ = loop_.add_timer(when, [this] {
        retry_timer_.reset();
        ++outage_->attempts;
        // The first attempt goes back to the same node; later ones go round the cluster.
        if (outage_->attempts > 1) move_to_next_node();
        arm_connect_timer();
        open_connection();
    });
}

void NativeClient::end_outage(const protocol::Connack& c) {
    const Outage outage = *outage_;
    time_step(StepTiming::Step::Outage, outage.since, ReasonCode::Success, outage.deliberate);
    outage_.reset();
    // Without the session the broker forgot our subscriptions too [MQTT-3.2.2-3]: make them again.
    if (!c.session_present)
        for (const auto& [filters, qos] : subscriptions_)
            resubscribe_ids_.insert(send_subscribe(filters, qos));
    connection_->flush();
    reconnected({outage.cause, std::chrono::duration<double>(Clock::now() - outage.since).count(),
                 outage.attempts, c.session_present, outage.deliberate});
}

void NativeClient::on_transport_closed(ErrorKind kind, const std::string& reason) {
    // A WebSocket close frame is the broker's reason, like a DISCONNECT's: no takeover guess.
    if (connection_->closed_by_close_frame() && disconnect_reason_.empty())
        disconnect_reason_ = reason;
    const std::string why = !disconnect_reason_.empty() ? disconnect_reason_ : reason;
    // Refused by the WebSocket server, or closed with a code about us: final, even mid-run.
    if (kind == ErrorKind::WebSocket) return fail(error(kind, why));
    if (outage_) {  // a reconnect attempt failed
        cancel(connect_timer_);
        return schedule_reconnect(why);
    }
    if (connected_) return lose_connection(why);
    // Closed after the TCP connect but before any CONNACK: a 3.1.1-only broker's answer to 5.
    if (kind == ErrorKind::ConnectionLost && fall_back_to_v311()) return;
    // A TLS listener resets a plain CONNECT.
    if ((kind == ErrorKind::Unreachable || kind == ErrorKind::Refused) && try_next_node(why))
        return;
    // A broker that gave its reason needs no guess. Without one, Mosquitto closes at once when
    // it is at max_connections, and a TLS listener resets a plain CONNECT [issue 29].
    const std::string hint =
        !disconnect_reason_.empty() ? ""
        : tls_ ? " (the broker may be at its connection limit, max_connections)"
               : " (the broker may be at its connection limit, max_connections; or the port "
                 "is a TLS listener: add --cafile)";
    if (kind == ErrorKind::ConnectionLost)
        return fail(error(ErrorKind::Protocol, "connection closed before CONNACK: " + why + hint));
    fail(error(kind, why));
}

std::string NativeClient::takeover_text() const {
    if (taken_over_)
        return fmt::format(
            "the broker ended the session of client id {} {} times in a row "
            "(session taken over, 0x8E): another client is using the same id "
            "(give each its own --id)",
            options_.client_id, takeovers_in_row_);
    // Without a reason (3.1.1, or Mosquitto 2.0 under 5) a quick close is a takeover or a
    // refusal of what we sent, such as a QoS above the listener's max_qos [issue 29].
    const std::string same_id =
        options_.client_id.empty()
            ? ""
            : fmt::format("another client using client id {} (give each its own --id), or ",
                          options_.client_id);
    return fmt::format(
        "the broker closed the connection {} times in a row within 1 s of "
        "accepting it, without a reason: {}the broker refusing what we send "
        "(a QoS, retained flag or size it does not allow; its log says which)",
        takeovers_in_row_, same_id);
}

bool NativeClient::taken_over_again() {
    // Mosquitto 2.0 closes a taken-over MQTT 5 connection without a DISCONNECT, as in 3.1.1.
    const bool quick_close =
        disconnect_reason_.empty() && Clock::now() - connected_at_ < std::chrono::seconds(1);
    takeovers_in_row_ = taken_over_ || quick_close ? takeovers_in_row_ + 1 : 0;
    return takeovers_in_row_ >= kTakeoversToGiveUp;
}

void NativeClient::lose_connection(const std::string& why) {
    if (taken_over_again()) return fail(error(ErrorKind::Protocol, takeover_text()));
    if (options_.give_up_after.count() > 0) return begin_outage(why);
    fail(error(ErrorKind::ConnectionLost, "connection lost: " + why));
}

void NativeClient::fail(Error error) {
    cancel_timers();
    connected_ = false;
    if (failure_) return;
    failure_ = std::move(error);
    // A first connect that went through the whole list names every node's reason.
    if (!first_node_error_.empty())
        failure_ = Error(failure_->kind(),
                         fmt::format("{} (also tried {})", failure_->what(), first_node_error_));
    failed(*failure_);
}

void NativeClient::arm_keepalive() {
    const auto deadline = session_->next_deadline();
    if (!deadline) return;
    keepalive_timer_ = loop_.add_timer(*deadline, [this] {
        keepalive_timer_.reset();
        if (!connected_) return;
        if (auto failure = session_->tick(Clock::now())) {
            connection_->flush();  // the session's DISCONNECT
            connection_->close();
            return lose_connection("keepalive: " + failure->message);
        }
        connection_->flush();
        arm_keepalive();  // at the session's next deadline (later if we sent since)
    });
}

void NativeClient::arm_connect_timer() {
    connect_timer_ = loop_.add_timer(Clock::now() + options_.connect_timeout, [this] {
        connect_timer_.reset();
        on_connect_timeout();
    });
}

void NativeClient::cancel(std::optional<net::EventLoop::TimerId>& timer) {
    if (timer) loop_.cancel(*timer);
    timer.reset();
}

void NativeClient::cancel_timers() {
    for (auto* timer : {&connect_timer_, &keepalive_timer_, &posted_, &retry_timer_, &flush_timer_})
        cancel(*timer);
}

void NativeClient::on_suback(const protocol::Suback& s) {
    if (s.type == protocol::PacketType::Unsuback) {
        if (const auto sent = subscribe_sent_.extract(s.packet_id))
            time_step(StepTiming::Step::Unsuback, sent.mapped());
        return;
    }
    if (const auto sent = subscribe_sent_.extract(s.packet_id)) {
        const auto failure = std::find_if(s.reasons.begin(), s.reasons.end(),
                                          [](std::uint8_t r) { return is_failure(r); });
        time_step(StepTiming::Step::Suback, sent.mapped(),
                  static_cast<ReasonCode>(failure == s.reasons.end() ? 0 : *failure));
    }
    if (resubscribe_ids_.erase(s.packet_id) != 0) {
        for (const std::uint8_t r : s.reasons)
            if (is_failure(r))
                return fail(suback_refusal(node().host, node().port, "(resubscribing)",
                                           static_cast<ReasonCode>(r)));
        return;
    }
    std::vector<ReasonCode> reasons;
    reasons.reserve(s.reasons.size());
    for (const std::uint8_t r : s.reasons) reasons.push_back(static_cast<ReasonCode>(r));
    subscribed(s.packet_id, std::move(reasons));
}

SubscribeId NativeClient::start_subscribe(const std::vector<std::string>& filters, QoS qos) {
    throw_if_failed();
    subscriptions_.emplace_back(filters, qos);
    const std::uint16_t id = send_subscribe(filters, qos);
    flush_soon();
    return id;
}

void NativeClient::start_unsubscribe(const std::vector<std::string>& filters) {
    throw_if_failed();
    // Not made again after a reconnect that lost the session.
    for (auto& [subscribed, qos] : subscriptions_)
        std::erase_if(subscribed, [&](const std::string& f) {
            return std::find(filters.begin(), filters.end(), f) != filters.end();
        });
    std::erase_if(subscriptions_, [](const auto& s) { return s.first.empty(); });
    const auto now = Clock::now();
    subscribe_sent_[session_->unsubscribe(filters, now)] = now;
    flush_soon();
}

std::uint16_t NativeClient::send_subscribe(const std::vector<std::string>& filters, QoS qos) {
    const auto now = Clock::now();
    const std::uint16_t id = session_->subscribe(filters, static_cast<std::uint8_t>(qos), now);
    subscribe_sent_[id] = now;
    return id;
}

void NativeClient::time_transport_steps() {
    transport_up_at_ = Clock::now();
    const Connection::Steps& steps = connection_->steps();
    using Step = StepTiming::Step;
    const bool again = outage_.has_value();
    for (const auto& [step, took] : {std::pair{Step::Resolve, steps.resolve},
                                     {Step::Tcp, steps.tcp},
                                     {Step::Tls, steps.tls},
                                     {Step::WebSocket, steps.websocket}})
        if (took.count() > 0 || step == Step::Tcp) timed({step, took, again});
}

void NativeClient::time_step(StepTiming::Step step, Clock::time_point since, ReasonCode reason,
                             bool deliberate) {
    timed({step, std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - since),
           outage_.has_value(), reason, deliberate});
}

void NativeClient::flush_soon() {
    if (flush_timer_) return;
    flush_timer_ = loop_.add_timer(Clock::time_point{}, [this] {  // due at once
        flush_timer_.reset();
        flush_and_confirm_qos0();
    });
}

std::optional<PublishId> NativeClient::publish_correlated(std::string_view topic,
                                                          std::string_view payload, QoS qos,
                                                          const Correlation& c) {
    const bool properties = !c.response_topic.empty() || !c.correlation_data.empty();
    if (properties && session_ && session_->version() != protocol::Version::V5)
        throw Error(ErrorKind::Protocol,
                    "MQTT 3.1.1 has no Response Topic or Correlation Data (they are MQTT 5's)");
    properties_.clear();
    using protocol::PropertyId;
    if (!c.response_topic.empty())
        protocol::append_string_property(properties_, PropertyId::ResponseTopic, c.response_topic);
    if (!c.correlation_data.empty())
        protocol::append_string_property(properties_, PropertyId::CorrelationData,
                                         c.correlation_data);
    return publish_with(topic, payload, qos, false, properties_);
}

std::optional<PublishId> NativeClient::publish_with(std::string_view topic,
                                                    std::string_view payload, QoS qos, bool retain,
                                                    std::string_view properties) {
    throw_if_failed();
    if (!connected_ || in_flight() >= window()) return std::nullopt;
    std::optional<std::uint16_t> id;
    try {
        id = session_->publish(topic, payload, static_cast<std::uint8_t>(qos), retain, Clock::now(),
                               properties);
    } catch (const protocol::BrokerLimit& e) {
        throw broker_error(ErrorKind::Protocol, node().host, node().port, e.what());
    }
    if (!id) return std::nullopt;
    PublishId given = *id;
    if (qos == QoS::AtMostOnce) {
        ++qos0_unwritten_;
        given = next_qos0_id_;
        next_qos0_id_ = kFirstQos0Id + (next_qos0_id_ + 1 - kFirstQos0Id) % 0x1'0000;
    }
    if (session_->outbox().size() >= kOutboxFlushBytes) flush_and_confirm_qos0();
    flush_soon();
    return given;
}

std::size_t NativeClient::flush_and_confirm_qos0() {
    if (!connection_) return 0;
    connection_->flush();
    // QoS 0 counts as confirmed once written to the socket.
    if (qos0_unwritten_ == 0 || connection_->has_unwritten() || !connection_->is_open()) return 0;
    const std::size_t n = std::exchange(qos0_unwritten_, 0);
    const auto now = Clock::now();
    // The last n ids given, oldest first.
    for (std::size_t i = n; i > 0; --i)
        confirm({kFirstQos0Id + (next_qos0_id_ - kFirstQos0Id + 0x1'0000 - i) % 0x1'0000,
                 ReasonCode::Success, now});
    return n;
}

void NativeClient::poll(std::chrono::microseconds timeout) {
    throw_if_failed();
    cancel(flush_timer_);  // flushed right here instead; a due timer would cut the wait short
    // Writing freed room in the window (QoS 0): let the caller publish on without waiting.
    const auto wait = flush_and_confirm_qos0() > 0 ? std::chrono::microseconds(0) : timeout;
    // About to sleep with what we read not yet acknowledged by a packet of ours: ACK it now.
    // Mosquitto Nagles by default (set_tcp_nodelay false), so it holds its next PUBACK until our
    // ACK comes, which Linux delays up to 40 ms: at --rate 1000 the PUBACK round trip measured
    // 1.04 ms (the send interval) instead of 0.08 ms, and a drain's last PUBACKs waited 40 ms.
    // Only here: an ACK after every read cost the saturated reference run 4% (more packets).
    if (wait.count() > 0 && connection_ && connection_->read_unanswered()) connection_->quick_ack();
    loop_.run_once(wait);
    throw_if_failed();
    flush_and_confirm_qos0();
}

void NativeClient::disconnect(SessionAfter after) noexcept {
    cancel_timers();
    connected_ = false;
    if (!connection_ || !connection_->is_open()) return;
    try {
        if (abandoned_) return connection_->close();
        session_->disconnect(after == SessionAfter::Keep);
        connection_->flush();
        connection_->close();
    } catch (...) {
        // Best effort: the socket is closed by the destructor either way.
    }
}

}  // namespace

// For engines.cpp.
std::unique_ptr<Client> make_native_client_with_own_loop();
std::unique_ptr<Client> make_native_client_for_one(net::EventLoop& loop);

std::unique_ptr<Client> make_native_client(net::EventLoop& loop) {
    return std::make_unique<NativeClient>(loop);
}

std::unique_ptr<Client> make_native_client_with_own_loop() {
    return std::make_unique<NativeClient>();
}

}  // namespace mqtt

namespace mqtt {

// The one client of a program, on a loop the program also uses: batched like a loop of its own.
std::unique_ptr<Client> make_native_client_for_one(net::EventLoop& loop) {
    auto client = std::make_unique<NativeClient>(loop);
    client->batch_reads();
    return client;
}

}  // namespace mqtt

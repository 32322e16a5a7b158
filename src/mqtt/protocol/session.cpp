#include "mqtt/protocol/session.hpp"

#include <algorithm>
#include <stdexcept>

namespace mqtt::protocol {

Session::Session(Config config, Handler& handler)
    : config_(std::move(config)), handler_(handler), keepalive_s_(config_.connect.keepalive_s) {
    config_.max_inflight = std::min(config_.max_inflight, kMaxWindow);
    window_ = config_.max_inflight;
    id_limit_ = 16;  // SUBSCRIBEs before the CONNACK; the CONNACK sizes the rest
}

void Session::use_window(std::size_t window) {
    window_ = window;
    // Identifiers cycle through 1..window+16 (16 beyond the window stay free for SUBSCRIBE
    // while it is full): few slots, each one's buffer reused. Slots are made when an identifier
    // is first used (an occasional sender needs one or two) and only grow, so identifiers still
    // in flight from a larger window stay valid.
    id_limit_ = std::min<std::size_t>(window + 16, 65535);
}

std::uint16_t Session::next_packet_id() {
    // With nothing in flight, start again at 1: a client that sends now and then (a fleet's
    // device) keeps using the first slot and its buffer instead of giving every slot one.
    if (in_flight_ == 0 && pending_subscribes_.empty()) last_id_ = 0;
    // Identifiers in use stay reserved until their flow completes [MQTT-2.2.1-3].
    for (;;) {
        for (std::size_t tried = 0; tried < id_limit_; ++tried) {
            last_id_ = static_cast<std::uint16_t>(
                std::size_t{last_id_} + 1 > id_limit_ ? 1 : last_id_ + 1);
            if (last_id_ >= outgoing_.size()) outgoing_.resize(std::size_t{last_id_} + 1);
            if (!outgoing_[last_id_].in_use && pending_subscribes_.count(last_id_) == 0)
                return last_id_;
        }
        // All taken (unanswered SUBSCRIBEs beyond the spare 16): take more slots instead of
        // searching forever, up to the 65,535 identifiers MQTT has (found by fuzz/session_fuzz).
        if (id_limit_ >= 65535)
            throw std::length_error("all 65,535 MQTT packet identifiers are in use");
        id_limit_ = std::min<std::size_t>(id_limit_ + 16, 65535);
    }
}

void Session::connection_opened(Clock::time_point now) {
    outbox_.clear();
    // A resumed session keeps the QoS 2 messages awaiting PUBREL: the broker may send them
    // again, and they must not be delivered twice (4.3.3).
    if (config_.connect.clean_start) qos2_incoming_.clear();
    ping_sent_.reset();
    last_received_ = now;
    encode(config_.connect, config_.connect.version, outbox_);
    sent(now);
    state_ = State::AwaitingConnack;
}

void Session::set_version(Version version) {
    if (state_ == State::Closed) config_.connect.version = version;
}

Session::Failure Session::give_up(Failure failure) {
    // Tell the broker why before the socket closes (MQTT 5 DISCONNECT with a reason, 4.13).
    outbox_.clear();
    if (config_.connect.version == Version::V5)
        encode(Disconnect{code_of(failure.reason), {}}, config_.connect.version, outbox_);
    state_ = State::Closed;
    return failure;
}

void Session::connection_lost() {
    state_ = State::Closed;
    outbox_.clear();
    pending_subscribes_.clear();
    ping_sent_.reset();
}

Session::FeedResult Session::feed(std::string_view bytes, Clock::time_point now) {
    FeedResult result;
    if (!bytes.empty()) last_received_ = now;
    while (result.consumed < bytes.size()) {
        DecodeResult d =
            decode(bytes.substr(result.consumed), config_.connect.version, max_packet_size_);
        if (d.status == DecodeStatus::NeedMore) break;
        if (d.status == DecodeStatus::Malformed) {
            result.failure = give_up(Failure{ReasonCode::MalformedPacket, d.error});
            return result;
        }
        result.consumed += d.consumed;
        if (auto failure = handle(d.packet, now)) {
            result.failure = give_up(std::move(*failure));
            return result;
        }
    }
    return result;
}

std::optional<Session::Failure> Session::handle(const Packet& packet, Clock::time_point now) {
    if (state_ == State::AwaitingConnack && !std::holds_alternative<Connack>(packet))
        return protocol_error("the broker sent another packet before CONNACK [MQTT-3.2.0-1]");
    if (const auto* connack = std::get_if<Connack>(&packet)) return handle_connack(*connack, now);
    if (const auto* publish = std::get_if<Publish>(&packet)) {
        handle_publish(*publish, now);
        return std::nullopt;
    }
    if (const auto* ack = std::get_if<Ack>(&packet)) return handle_ack(*ack, now);
    if (const auto* suback = std::get_if<Suback>(&packet)) {
        pending_subscribes_.erase(suback->packet_id);
        handler_.on_suback(*suback);
        return std::nullopt;
    }
    if (std::holds_alternative<Pingresp>(packet)) {
        ping_sent_.reset();
        return std::nullopt;
    }
    if (const auto* disconnect = std::get_if<Disconnect>(&packet)) {
        handler_.on_disconnect(*disconnect);
        return std::nullopt;
    }
    return protocol_error("the broker sent a packet only clients send");
}

Session::Failure Session::protocol_error(std::string why) {
    return Failure{ReasonCode::ProtocolError, std::move(why)};
}

std::optional<Session::Failure> Session::handle_connack(const Connack& connack,
                                                        Clock::time_point now) {
    if (state_ != State::AwaitingConnack) return protocol_error("second CONNACK [MQTT-3.2.0-2]");
    if (is_failure(connack.reason)) {
        state_ = State::Closed;
        handler_.on_connack(connack);
        return std::nullopt;
    }
    state_ = State::Connected;
    apply_broker_limits(connack.properties);
    handler_.on_connack(connack);
    resend_unconfirmed(now);
    return std::nullopt;
}

// The broker's limits (3.2.2.3): in-flight quota, keepalive, packet size, QoS, retain.
void Session::apply_broker_limits(const Properties& p) {
    std::size_t window = config_.max_inflight;
    if (auto rm = p.number(PropertyId::ReceiveMaximum)) window = std::min<std::size_t>(window, *rm);
    use_window(window);
    if (auto ka = p.number(PropertyId::ServerKeepAlive))
        keepalive_s_ = static_cast<std::uint16_t>(*ka);
    broker_max_packet_size_ = 0;
    if (auto mps = p.number(PropertyId::MaximumPacketSize))
        broker_max_packet_size_ = static_cast<std::uint32_t>(*mps);
    broker_max_qos_ = static_cast<std::uint8_t>(p.number(PropertyId::MaximumQos).value_or(2));
    broker_retain_available_ = p.number(PropertyId::RetainAvailable).value_or(1) != 0;
    // Topic Alias Maximum needs nothing: we never send a Topic Alias [MQTT-3.2.2-17].
}

void Session::handle_publish(const Publish& publish, Clock::time_point now) {
    switch (publish.qos) {
        case 0:
            handler_.on_message(publish);
            break;
        case 1:
            handler_.on_message(publish);
            encode(Ack{PacketType::Puback, publish.packet_id, 0, {}}, config_.connect.version,
                   outbox_);
            sent(now);
            break;
        case 2:
            // Deliver on the first PUBLISH only; a resend before our PUBCOMP is the same
            // message (4.3.3, method B: store the packet identifier).
            if (qos2_incoming_.insert(publish.packet_id).second) handler_.on_message(publish);
            encode(Ack{PacketType::Pubrec, publish.packet_id, 0, {}}, config_.connect.version,
                   outbox_);
            sent(now);
            break;
        default:
            break;
    }
}

namespace {
std::string ack_name(PacketType type) {
    switch (type) {
        case PacketType::Puback:
            return "PUBACK";
        case PacketType::Pubrec:
            return "PUBREC";
        case PacketType::Pubcomp:
            return "PUBCOMP";
        default:
            return "acknowledgement";
    }
}
}  // namespace

std::optional<Session::Failure> Session::handle_ack(const Ack& ack, Clock::time_point now) {
    if (ack.type == PacketType::Pubrel) {
        // Our incoming QoS 2 flow ends: forget the identifier, answer PUBCOMP.
        qos2_incoming_.erase(ack.packet_id);
        encode(Ack{PacketType::Pubcomp, ack.packet_id, 0, {}}, config_.connect.version, outbox_);
        sent(now);
        return std::nullopt;
    }
    if (ack.packet_id >= outgoing_.size() || !outgoing_[ack.packet_id].in_use) {
        // We resend only on a new connection, so each PUBLISH of this connection gets exactly
        // one acknowledgement: anything else is a broker bug, and guessing which message it
        // meant could confirm one the broker never got.
        return Failure{ReasonCode::ProtocolError,
                       ack_name(ack.type) + " for packet identifier " +
                           std::to_string(ack.packet_id) +
                           ", which is not in flight (4.3: one acknowledgement per PUBLISH)"};
    }
    Outgoing& out = outgoing_[ack.packet_id];
    const bool expected = (ack.type == PacketType::Puback && out.qos == 1) ||
                          (ack.type == PacketType::Pubrec && out.qos == 2) ||
                          (ack.type == PacketType::Pubcomp && out.qos == 2 && out.released);
    if (!expected) {
        if (ack.type == PacketType::Pubrec && out.released)
            return std::nullopt;  // duplicate PUBREC
        return Failure{ReasonCode::ProtocolError,
                       "acknowledgement of the wrong kind for packet identifier " +
                           std::to_string(ack.packet_id)};
    }
    if (ack.type == PacketType::Pubrec && !is_failure(ack.reason)) {
        out.released = true;
        out.pubrec_reason = ack.reason;
        --awaiting_pubrec_;
        out.packet.clear();  // the message is stored by the broker: only PUBREL is resent now
        encode(Ack{PacketType::Pubrel, ack.packet_id, 0, {}}, config_.connect.version, outbox_);
        sent(now);
        return std::nullopt;
    }
    // PUBACK, PUBCOMP, or a PUBREC refusing the message (reason >= 0x80 ends the flow, 4.3.3).
    if (out.qos == 2 && !out.released) --awaiting_pubrec_;  // a PUBREC refusing it
    const std::uint8_t reason =
        ack.type == PacketType::Pubcomp && !is_failure(ack.reason) ? out.pubrec_reason : ack.reason;
    out.in_use = false;
    out.released = false;
    --in_flight_;
    handler_.on_confirmed(ack.packet_id, static_cast<ReasonCode>(reason), out.published_at);
    return std::nullopt;
}

void Session::resend_unconfirmed(Clock::time_point now) {
    if (in_flight_ == 0) return;
    std::vector<std::pair<std::uint64_t, std::uint16_t>> order;
    for (std::size_t id = 1; id < outgoing_.size(); ++id)
        if (outgoing_[id].in_use)
            order.emplace_back(outgoing_[id].order, static_cast<std::uint16_t>(id));
    std::sort(order.begin(), order.end());
    for (const auto& [seq, id] : order) {
        Outgoing& out = outgoing_[id];
        if (out.released) {
            encode(Ack{PacketType::Pubrel, id, 0, {}}, config_.connect.version, outbox_);
        } else {
            out.packet[0] = static_cast<char>(out.packet[0] | 0x08);  // DUP [MQTT-3.3.1-1]
            outbox_.append(out.packet);
        }
    }
    sent(now);
}

std::optional<std::uint16_t> Session::publish(std::string_view topic, std::string_view payload,
                                              std::uint8_t qos, bool retain, Clock::time_point now,
                                              std::string_view properties) {
    if (!can_publish()) return std::nullopt;
    check_broker_accepts(topic, qos, retain);
    if (!properties.empty() && config_.connect.version != Version::V5)
        throw BrokerLimit("a PUBLISH with user properties on " + std::string(topic) +
                          ": this connection speaks MQTT 3.1.1, which has no properties");
    if (qos == 0) {
        const std::size_t start = outbox_.size();
        encode_publish(topic, payload, 0, retain, false, 0, config_.connect.version, outbox_,
                       properties);
        check_packet_size(start, topic);
        sent(now);
        return std::uint16_t{0};
    }
    const std::uint16_t id = next_packet_id();
    const std::size_t start = encode_publish(topic, payload, qos, retain, false, id,
                                             config_.connect.version, outbox_, properties);
    check_packet_size(start, topic);
    Outgoing& out = outgoing_[id];
    out.packet.assign(outbox_, start);  // reuses the slot's buffer
    out.order = order_++;
    out.published_at = now;
    out.qos = qos;
    out.released = false;
    out.pubrec_reason = 0;
    out.in_use = true;
    ++in_flight_;
    if (qos == 2) ++awaiting_pubrec_;
    sent(now);
    return id;
}

void Session::check_broker_accepts(std::string_view topic, std::uint8_t qos, bool retain) const {
    if (qos > broker_max_qos_)
        throw BrokerLimit("a QoS " + std::to_string(qos) + " PUBLISH on " + std::string(topic) +
                          ": the broker accepts at most QoS " + std::to_string(broker_max_qos_) +
                          " (Maximum QoS in its CONNACK)");
    if (retain && !broker_retain_available_)
        throw BrokerLimit("a retained PUBLISH on " + std::string(topic) +
                          ": the broker does not accept retained messages (Retain Available 0 "
                          "in its CONNACK)");
}

void Session::check_packet_size(std::size_t start, std::string_view topic) {
    const std::size_t size = outbox_.size() - start;
    if (broker_max_packet_size_ == 0 || size <= broker_max_packet_size_) return;
    outbox_.resize(start);  // never sent [MQTT-3.1.2-24]
    throw BrokerLimit("a PUBLISH of " + std::to_string(size) + " bytes on " + std::string(topic) +
                      " exceeds the broker's Maximum Packet Size of " +
                      std::to_string(broker_max_packet_size_) + " bytes");
}

std::uint16_t Session::subscribe(const std::vector<std::string>& filters, std::uint8_t qos,
                                 Clock::time_point now) {
    Subscribe s;
    s.packet_id = next_packet_id();
    for (const std::string& f : filters) s.subscriptions.push_back({f, qos});
    pending_subscribes_.insert(s.packet_id);
    encode(s, config_.connect.version, outbox_);
    sent(now);
    return s.packet_id;
}

std::uint16_t Session::unsubscribe(const std::vector<std::string>& filters, Clock::time_point now) {
    Unsubscribe u;
    u.packet_id = next_packet_id();
    u.filters = filters;
    pending_subscribes_.insert(u.packet_id);
    encode(u, config_.connect.version, outbox_);
    sent(now);
    return u.packet_id;
}

void Session::disconnect(bool keep_session) {
    if (state_ == State::Closed) return;
    Disconnect d;
    // A normal end ends a persistent session too, so no stale session waits in the broker
    // (3.14.2.2.2: only allowed when CONNECT set a non-zero expiry).
    if (config_.connect.version == Version::V5 && !keep_session &&
        config_.connect.properties.number(PropertyId::SessionExpiryInterval).value_or(0) != 0)
        d.properties.add(PropertyId::SessionExpiryInterval, 0u);
    encode(d, config_.connect.version, outbox_);
    state_ = State::Closed;
}

std::optional<Session::Clock::time_point> Session::next_deadline() const {
    if (state_ != State::Connected || keepalive_s_ == 0) return std::nullopt;
    const auto period = std::chrono::milliseconds(keepalive_s_ * 1000);
    const auto silent_limit = last_received_ + period * 3 / 2;
    if (ping_sent_) return silent_limit;  // waiting for the PINGRESP (or any packet)
    return std::min(last_sent_ + period, last_received_ + period);
}

std::optional<Session::Failure> Session::tick(Clock::time_point now) {
    const auto deadline = next_deadline();
    if (!deadline || now < *deadline) return std::nullopt;
    const auto period = std::chrono::milliseconds(keepalive_s_ * 1000);
    // The keepalive rule's 1.5 intervals [MQTT-3.1.2-24], applied to the broker: a broker that
    // keeps the socket open but stops answering (no PUBACK, no PINGRESP) is gone.
    if (now - last_received_ >= period * 3 / 2)
        return give_up(Failure{ReasonCode::KeepAliveTimeout,
                               "no packet from the broker for 1.5 keepalive intervals (" +
                                   std::to_string(keepalive_s_ * 3 / 2) +
                                   (keepalive_s_ % 2 != 0 ? ".5 s)" : " s)")});
    // [MQTT-3.1.2-20]: PINGREQ when nothing else was sent within the keepalive; also when
    // nothing came back within it, to make a silent broker answer.
    if (!ping_sent_) {
        encode(Pingreq{}, config_.connect.version, outbox_);
        ping_sent_ = now;
        sent(now);
    }
    return std::nullopt;
}

}  // namespace mqtt::protocol

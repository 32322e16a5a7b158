#include "mqtt/protocol/codec.hpp"

#include <array>

namespace mqtt::protocol {
namespace {

// ---------------------------------------------------------------- encoding helpers

void put_u8(std::string& out, std::uint8_t v) {
    out.push_back(static_cast<char>(v));
}
void put_u16(std::string& out, std::uint16_t v) {
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v & 0xFF));
}
void put_u32(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<char>((v >> shift) & 0xFF));
}
void put_varint(std::string& out, std::uint32_t v) {
    do {
        std::uint8_t byte = v % 128;
        v /= 128;
        if (v > 0) byte |= 0x80;
        put_u8(out, byte);
    } while (v > 0);
}
void put_str(std::string& out, std::string_view s) {
    put_u16(out, static_cast<std::uint16_t>(s.size()));
    out.append(s);
}

enum class PropertyKind { Byte, TwoByte, FourByte, VarInt, Utf8, Binary, Pair, Unknown };

PropertyKind kind_of(PropertyId id) {
    switch (id) {
        case PropertyId::PayloadFormatIndicator:
        case PropertyId::RequestProblemInformation:
        case PropertyId::RequestResponseInformation:
        case PropertyId::MaximumQos:
        case PropertyId::RetainAvailable:
        case PropertyId::WildcardSubscriptionAvailable:
        case PropertyId::SubscriptionIdentifierAvailable:
        case PropertyId::SharedSubscriptionAvailable:
            return PropertyKind::Byte;
        case PropertyId::ServerKeepAlive:
        case PropertyId::ReceiveMaximum:
        case PropertyId::TopicAliasMaximum:
        case PropertyId::TopicAlias:
            return PropertyKind::TwoByte;
        case PropertyId::MessageExpiryInterval:
        case PropertyId::SessionExpiryInterval:
        case PropertyId::WillDelayInterval:
        case PropertyId::MaximumPacketSize:
            return PropertyKind::FourByte;
        case PropertyId::SubscriptionIdentifier:
            return PropertyKind::VarInt;
        case PropertyId::ContentType:
        case PropertyId::ResponseTopic:
        case PropertyId::AssignedClientIdentifier:
        case PropertyId::AuthenticationMethod:
        case PropertyId::ResponseInformation:
        case PropertyId::ServerReference:
        case PropertyId::ReasonString:
            return PropertyKind::Utf8;
        case PropertyId::CorrelationData:
        case PropertyId::AuthenticationData:
            return PropertyKind::Binary;
        case PropertyId::UserProperty:
            return PropertyKind::Pair;
    }
    return PropertyKind::Unknown;
}

void put_properties(std::string& out, const Properties& props) {
    std::string body;
    for (const Property& p : props.items) {
        put_u8(body, static_cast<std::uint8_t>(p.id));
        switch (kind_of(p.id)) {
            case PropertyKind::Byte:
                put_u8(body, static_cast<std::uint8_t>(std::get<std::uint32_t>(p.value)));
                break;
            case PropertyKind::TwoByte:
                put_u16(body, static_cast<std::uint16_t>(std::get<std::uint32_t>(p.value)));
                break;
            case PropertyKind::FourByte:
                put_u32(body, std::get<std::uint32_t>(p.value));
                break;
            case PropertyKind::VarInt:
                put_varint(body, std::get<std::uint32_t>(p.value));
                break;
            case PropertyKind::Utf8:
            case PropertyKind::Binary:
                put_str(body, std::get<std::string>(p.value));
                break;
            case PropertyKind::Pair: {
                const auto& [k, v] = std::get<std::pair<std::string, std::string>>(p.value);
                put_str(body, k);
                put_str(body, v);
                break;
            }
            case PropertyKind::Unknown:
                break;
        }
    }
    put_varint(out, static_cast<std::uint32_t>(body.size()));
    out.append(body);
}

void put_fixed_header(std::string& out, PacketType type, std::uint8_t flags,
                      std::size_t remaining) {
    put_u8(out, static_cast<std::uint8_t>((static_cast<std::uint8_t>(type) << 4) | flags));
    put_varint(out, static_cast<std::uint32_t>(remaining));
}

// ---------------------------------------------------------------- decoding helpers

bool valid_utf8(std::string_view s) {
    // 1.5.4: well-formed UTF-8 without U+0000 [MQTT-1.5.4-1, MQTT-1.5.4-2].
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == 0) return false;
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t n;
        std::uint32_t cp;
        if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else
            return false;
        if (i + n >= s.size()) return false;  // truncated sequence
        for (std::size_t k = 1; k <= n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        const std::uint32_t min = n == 1 ? 0x80 : n == 2 ? 0x800 : 0x10000;
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n + 1;
    }
    return true;
}

// Reads big-endian fields from one packet's body; the first failure sticks.
class Reader {
  public:
    explicit Reader(std::string_view body) : body_(body) {}
    bool failed() const { return !error_.empty(); }
    const std::string& error() const { return error_; }
    std::size_t left() const { return body_.size() - pos_; }
    void fail(std::string why) {
        if (error_.empty()) error_ = std::move(why);
        pos_ = body_.size();
    }
    std::uint8_t u8() {
        if (left() < 1) return fail("truncated"), 0;
        return static_cast<std::uint8_t>(body_[pos_++]);
    }
    std::uint16_t u16() {
        if (left() < 2) return fail("truncated"), 0;
        const auto v = static_cast<std::uint16_t>((static_cast<std::uint8_t>(body_[pos_]) << 8) |
                                                  static_cast<std::uint8_t>(body_[pos_ + 1]));
        pos_ += 2;
        return v;
    }
    std::uint32_t u32() {
        const std::uint32_t hi = u16();
        return (hi << 16) | u16();
    }
    std::uint32_t varint() {
        std::uint32_t value = 0, multiplier = 1;
        for (int i = 0; i < 4; ++i) {
            const std::uint8_t b = u8();
            if (failed()) return 0;
            value += (b & 0x7F) * multiplier;
            if ((b & 0x80) == 0) return value;
            multiplier *= 128;
        }
        fail("variable byte integer longer than 4 bytes [MQTT-1.5.5]");
        return 0;
    }
    std::string_view binary() {
        const std::uint16_t n = u16();
        if (failed()) return {};
        if (left() < n) return fail("truncated string"), std::string_view{};
        const std::string_view s = body_.substr(pos_, n);
        pos_ += n;
        return s;
    }
    std::string_view utf8(const char* what) {
        const std::string_view s = binary();
        if (!failed() && !valid_utf8(s))
            fail(std::string(what) + " is not valid UTF-8 [MQTT-1.5.4-1]");
        return s;
    }
    std::string_view rest() {
        const std::string_view s = body_.substr(pos_);
        pos_ = body_.size();
        return s;
    }
    Properties properties() {
        Properties props;
        const std::uint32_t length = varint();
        if (failed()) return props;
        if (length > left()) return fail("property length exceeds the packet"), props;
        Reader r(body_.substr(pos_, length));
        pos_ += length;
        while (r.left() > 0 && !r.failed()) {
            const auto id = static_cast<PropertyId>(r.u8());
            switch (kind_of(id)) {
                case PropertyKind::Byte:
                    props.add(id, r.u8());
                    break;
                case PropertyKind::TwoByte:
                    props.add(id, r.u16());
                    break;
                case PropertyKind::FourByte:
                    props.add(id, r.u32());
                    break;
                case PropertyKind::VarInt:
                    props.add(id, r.varint());
                    break;
                case PropertyKind::Utf8:
                    props.add(id, std::string(r.utf8("property")));
                    break;
                case PropertyKind::Binary:
                    props.add(id, std::string(r.binary()));
                    break;
                case PropertyKind::Pair: {
                    std::string k(r.utf8("user property")), v(r.utf8("user property"));
                    props.items.push_back({id, std::pair{std::move(k), std::move(v)}});
                    break;
                }
                case PropertyKind::Unknown:
                    r.fail("unknown property identifier " + std::to_string(static_cast<int>(id)) +
                           " [MQTT-2.2.2-2]");
            }
        }
        if (r.failed()) fail("bad properties: " + r.error());
        return props;
    }

  private:
    std::string_view body_;
    std::size_t pos_{0};
    std::string error_;
};

bool has_wildcard(std::string_view topic) {
    return topic.find_first_of("+#") != std::string_view::npos;
}

}  // namespace

std::optional<std::uint32_t> Properties::number(PropertyId id) const {
    for (const Property& p : items)
        if (p.id == id && std::holds_alternative<std::uint32_t>(p.value))
            return std::get<std::uint32_t>(p.value);
    return std::nullopt;
}

std::optional<std::string_view> Properties::text(PropertyId id) const {
    for (const Property& p : items)
        if (p.id == id && std::holds_alternative<std::string>(p.value))
            return std::get<std::string>(p.value);
    return std::nullopt;
}

std::size_t encode_publish(std::string_view topic, std::string_view payload, std::uint8_t qos,
                           bool retain, bool dup, std::uint16_t packet_id, Version version,
                           std::string& out, std::string_view properties) {
    const std::size_t start = out.size();
    std::string length;  // the property length's variable byte integer; empty: one zero byte
    if (!properties.empty()) put_varint(length, static_cast<std::uint32_t>(properties.size()));
    const std::size_t property_bytes = version != Version::V5 ? 0
                                       : properties.empty()   ? 1
                                                              : length.size() + properties.size();
    const std::size_t remaining =
        2 + topic.size() + (qos > 0 ? 2 : 0) + property_bytes + payload.size();
    const auto flags =
        static_cast<std::uint8_t>((dup ? 0x08 : 0) | (qos << 1) | (retain ? 0x01 : 0));
    put_fixed_header(out, PacketType::Publish, flags, remaining);
    put_str(out, topic);
    if (qos > 0) put_u16(out, packet_id);
    if (version == Version::V5 && properties.empty()) put_u8(out, 0);  // no properties
    if (version == Version::V5 && !properties.empty()) {
        out.append(length);
        out.append(properties);
    }
    out.append(payload);
    return start;
}

void append_string_property(std::string& properties, PropertyId id, std::string_view value) {
    put_u8(properties, static_cast<std::uint8_t>(id));
    put_str(properties, value);
}

void append_user_property(std::string& properties, std::string_view key, std::string_view value) {
    put_u8(properties, static_cast<std::uint8_t>(PropertyId::UserProperty));
    put_str(properties, key);
    put_str(properties, value);
}

namespace {

// A packet's fixed-header type and flags; each encode_body() writes the rest.
struct Head {
    PacketType type;
    std::uint8_t flags{0};
};

Head encode_body(const Connect& p, bool /*v5*/, std::string& body) {
    const bool pv5 = p.version == Version::V5;
    put_str(body, "MQTT");
    put_u8(body, static_cast<std::uint8_t>(p.version));
    std::uint8_t cf = p.clean_start ? 0x02 : 0;
    if (p.will)
        cf |= static_cast<std::uint8_t>(0x04 | (p.will->qos << 3) | (p.will->retain ? 0x20 : 0));
    if (p.password) cf |= 0x40;
    if (p.username) cf |= 0x80;
    put_u8(body, cf);
    put_u16(body, p.keepalive_s);
    if (pv5) put_properties(body, p.properties);
    put_str(body, p.client_id);
    if (p.will) {
        if (pv5) put_properties(body, p.will->properties);
        put_str(body, p.will->topic);
        put_str(body, p.will->payload);
    }
    if (p.username) put_str(body, *p.username);
    if (p.password) put_str(body, *p.password);
    return {PacketType::Connect};
}

Head encode_body(const Connack& p, bool v5, std::string& body) {
    put_u8(body, p.session_present ? 1 : 0);
    // Found by the fuzzer: a decoded 3.1.1 CONNACK must encode back to its return code.
    put_u8(body, v5 ? p.reason : mqtt::v311_connack_code(static_cast<ReasonCode>(p.reason)));
    if (v5) put_properties(body, p.properties);
    return {PacketType::Connack};
}

Head encode_body(const Publish& p, bool v5, std::string& body) {
    put_str(body, p.topic);
    if (p.qos > 0) put_u16(body, p.packet_id);
    if (v5) put_properties(body, p.properties);
    body.append(p.payload);
    return {PacketType::Publish,
            static_cast<std::uint8_t>((p.dup ? 0x08 : 0) | (p.qos << 1) | (p.retain ? 1 : 0))};
}

Head encode_body(const Ack& p, bool v5, std::string& body) {
    put_u16(body, p.packet_id);
    // 3.4.2.1: the reason code and properties may be left out when 0 and empty.
    if (v5 && (p.reason != 0 || !p.properties.items.empty())) {
        put_u8(body, p.reason);
        if (!p.properties.items.empty()) put_properties(body, p.properties);
    }
    const std::uint8_t flags = p.type == PacketType::Pubrel ? 0x02 : 0;  // [MQTT-3.6.1-1]
    return {p.type, flags};
}

Head encode_body(const Subscribe& p, bool v5, std::string& body) {
    put_u16(body, p.packet_id);
    if (v5) put_properties(body, p.properties);
    for (const Subscription& s : p.subscriptions) {
        put_str(body, s.filter);
        put_u8(body, s.options);
    }
    return {PacketType::Subscribe, 0x02};  // [MQTT-3.8.1-1]
}

Head encode_body(const Suback& p, bool v5, std::string& body) {
    put_u16(body, p.packet_id);
    if (v5) put_properties(body, p.properties);
    if (v5 || p.type == PacketType::Suback)
        for (std::uint8_t r : p.reasons) put_u8(body, r);
    return {p.type};
}

Head encode_body(const Unsubscribe& p, bool v5, std::string& body) {
    put_u16(body, p.packet_id);
    if (v5) put_properties(body, p.properties);
    for (const std::string& f : p.filters) put_str(body, f);
    return {PacketType::Unsubscribe, 0x02};  // [MQTT-3.10.1-1]
}

Head encode_body(const Pingreq& /*p*/, bool /*v5*/, std::string& /*body*/) {
    return {PacketType::Pingreq};
}

Head encode_body(const Pingresp& /*p*/, bool /*v5*/, std::string& /*body*/) {
    return {PacketType::Pingresp};
}

Head encode_body(const Disconnect& p, bool v5, std::string& body) {
    if (v5 && (p.reason != 0 || !p.properties.items.empty())) {
        put_u8(body, p.reason);
        put_properties(body, p.properties);
    }
    return {PacketType::Disconnect};
}

}  // namespace

void encode(const Packet& packet, Version version, std::string& out) {
    std::string body;
    const Head head = std::visit(
        [&](const auto& p) { return encode_body(p, version == Version::V5, body); }, packet);
    put_fixed_header(out, head.type, head.flags, body.size());
    out.append(body);
}

namespace {

// The fixed header (2.1): type, flags, and the remaining length in `remaining`, after `size`.
struct FixedHeader {
    PacketType type{};
    std::uint8_t flags{0};
    std::uint32_t remaining{0};
    std::size_t size{0};
};

DecodeResult malformed(std::string why) {
    DecodeResult result;
    result.status = DecodeStatus::Malformed;
    result.error = std::move(why);
    return result;
}

// The remaining length's bytes (1.5.5); a result when more bytes are needed or it is malformed.
std::optional<DecodeResult> read_remaining_length(std::string_view in, FixedHeader& h) {
    std::uint32_t multiplier = 1;
    for (h.size = 1;; ++h.size) {
        if (h.size > 4) return malformed("remaining length longer than 4 bytes [MQTT-1.5.5]");
        if (h.size >= in.size()) return DecodeResult{};  // need more
        const auto b = static_cast<std::uint8_t>(in[h.size]);
        h.remaining += (b & 0x7F) * multiplier;
        multiplier *= 128;
        if ((b & 0x80) == 0) {
            // Found by the fuzzer: 0x86 0x00 is 6 in two bytes.
            if (b == 0 && h.size > 1)
                return malformed("remaining length not in the fewest bytes [MQTT-1.5.5-1]");
            ++h.size;
            return std::nullopt;
        }
    }
}

// Fills `h` from the start of `in`; a result instead when the packet cannot be decoded (yet).
std::optional<DecodeResult> read_fixed_header(std::string_view in, std::uint32_t max_packet_size,
                                              FixedHeader& h) {
    if (in.empty()) return DecodeResult{};
    const auto first = static_cast<std::uint8_t>(in[0]);
    const auto type_bits = static_cast<std::uint8_t>(first >> 4);
    h.flags = first & 0x0F;
    if (auto stop = read_remaining_length(in, h)) return stop;
    if (h.remaining > kMaxRemainingLength || h.remaining > max_packet_size)
        return malformed("packet of " + std::to_string(h.remaining) +
                         " bytes exceeds the maximum packet size");
    if (type_bits == 0) return malformed("reserved packet type 0 [MQTT-2.1.2]");
    h.type = static_cast<PacketType>(type_bits);
    const bool flagged = h.type == PacketType::Pubrel || h.type == PacketType::Subscribe ||
                         h.type == PacketType::Unsubscribe;
    if (h.type != PacketType::Publish && h.flags != (flagged ? 0x02 : 0x00))
        return malformed("reserved flag bits of packet type " + std::to_string(type_bits) +
                         " are wrong [MQTT-2.1.3-1]");
    if (in.size() - h.size < h.remaining) return DecodeResult{};  // need more
    return std::nullopt;
}

// Each decode_*() reads one packet's variable header and payload; a malformed one fails the
// reader with the reason (the first failure is the one reported).
Packet reject(Reader& r, std::string why) {
    r.fail(std::move(why));
    return Packet{};
}

void decode_will(Reader& r, Connect& c, std::uint8_t cf) {
    if ((cf & 0x04) == 0) {
        if (cf & 0x38) r.fail("will QoS/retain set without the will flag [MQTT-3.1.2-11]");
        return;
    }
    Will w;
    w.qos = static_cast<std::uint8_t>((cf >> 3) & 0x03);
    if (w.qos == 3) return r.fail("will QoS 3 [MQTT-3.1.2-14]");
    w.retain = (cf & 0x20) != 0;
    if (c.version == Version::V5) w.properties = r.properties();
    w.topic = r.utf8("will topic");
    w.payload = r.binary();
    c.will = std::move(w);
}

Packet decode_connect(Reader& r) {
    Connect c;
    if (r.utf8("protocol name") != "MQTT" && !r.failed())
        return reject(r, "protocol name is not MQTT [MQTT-3.1.2-1]");
    const std::uint8_t level = r.u8();
    if (level != 4 && level != 5 && !r.failed())
        return reject(r, "unsupported protocol level " + std::to_string(level));
    c.version = static_cast<Version>(level);
    const std::uint8_t cf = r.u8();
    if (cf & 0x01) return reject(r, "reserved CONNECT flag is set [MQTT-3.1.2-3]");
    c.clean_start = (cf & 0x02) != 0;
    c.keepalive_s = r.u16();
    if (c.version == Version::V5) c.properties = r.properties();
    c.client_id = r.utf8("client id");
    decode_will(r, c, cf);
    if (cf & 0x80) c.username = std::string(r.utf8("user name"));
    if (cf & 0x40) c.password = std::string(r.binary());
    return c;
}

Packet decode_connack(Reader& r, bool v5) {
    Connack c;
    const bool short_form = r.left() == 2;
    const std::uint8_t ack_flags = r.u8();
    if (ack_flags & 0xFE) return reject(r, "reserved CONNACK flags are set [MQTT-3.2.2-1]");
    c.session_present = (ack_flags & 0x01) != 0;
    c.reason = r.u8();
    if (v5 && !short_form) {
        c.properties = r.properties();
        return c;
    }
    // An MQTT 3.1.1 CONNACK (also what a 3.1.1-only broker sends to an MQTT 5 client): map its
    // return codes (3.1.1 3.2.2.3) onto reason codes.
    if (const auto mapped = mqtt::reason_from_v311_connack(c.reason))
        c.reason = code_of(*mapped);
    else if (!v5)
        return reject(r, "CONNACK return code " + std::to_string(c.reason) + " is reserved");
    return c;
}

Packet decode_publish(Reader& r, std::uint8_t flags, bool v5) {
    Publish p;
    p.qos = static_cast<std::uint8_t>((flags >> 1) & 0x03);
    p.dup = (flags & 0x08) != 0;
    p.retain = (flags & 0x01) != 0;
    if (p.qos == 3) return reject(r, "PUBLISH with QoS 3 [MQTT-3.3.1-4]");
    if (p.dup && p.qos == 0) return reject(r, "DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2]");
    p.topic = r.utf8("topic name");
    if (has_wildcard(p.topic)) return reject(r, "wildcard in a PUBLISH topic name [MQTT-3.3.2-2]");
    if (p.qos > 0) {
        p.packet_id = r.u16();
        if (p.packet_id == 0 && !r.failed()) return reject(r, "packet identifier 0 [MQTT-2.2.1-3]");
    }
    if (v5) p.properties = r.properties();
    if (p.topic.empty() && !r.failed() && !p.properties.number(PropertyId::TopicAlias))
        return reject(r, "empty topic name without a topic alias [MQTT-4.7.3-1]");
    p.payload = r.rest();
    return p;
}

Packet decode_ack(Reader& r, PacketType type, bool v5) {
    Ack a;
    a.type = type;
    a.packet_id = r.u16();
    if (a.packet_id == 0 && !r.failed()) return reject(r, "packet identifier 0 [MQTT-2.2.1-3]");
    if (v5 && r.left() > 0) {
        a.reason = r.u8();
        if (r.left() > 0) a.properties = r.properties();
    }
    return a;
}

// Why a subscription's options byte is malformed, or nothing.
const char* bad_options(std::uint8_t options, bool v5) {
    if ((options & 0x03) == 3) return "subscription with QoS 3 [MQTT-3.8.3-4]";
    if (!v5 && (options & 0xFC)) return "reserved subscription option bits set [MQTT-3.8.3-4]";
    if (v5 && ((options & 0xC0) || ((options >> 4) & 0x03) == 3))
        return "reserved subscription option bits set [MQTT-3.8.3-5]";
    return nullptr;
}

Packet decode_subscribe(Reader& r, bool v5) {
    Subscribe s;
    s.packet_id = r.u16();
    if (v5) s.properties = r.properties();
    while (r.left() > 0 && !r.failed()) {
        Subscription sub;
        sub.filter = r.utf8("topic filter");
        sub.options = r.u8();
        if (const char* why = bad_options(sub.options, v5)) return reject(r, why);
        s.subscriptions.push_back(std::move(sub));
    }
    if (s.subscriptions.empty() && !r.failed())
        return reject(r, "SUBSCRIBE without a topic filter [MQTT-3.8.3-2]");
    return s;
}

Packet decode_suback(Reader& r, PacketType type, bool v5) {
    Suback s;
    s.type = type;
    s.packet_id = r.u16();
    if (v5) s.properties = r.properties();
    while (r.left() > 0 && !r.failed()) s.reasons.push_back(r.u8());
    if (type == PacketType::Suback && s.reasons.empty() && !r.failed())
        return reject(r, "SUBACK without reason codes");
    // Found by the fuzzer: a 3.1.1 UNSUBACK is a packet identifier and nothing else.
    if (type == PacketType::Unsuback && !v5 && !s.reasons.empty())
        return reject(r, "MQTT 3.1.1 UNSUBACK with a payload [3.1.1: 3.11.1]");
    return s;
}

Packet decode_unsubscribe(Reader& r, bool v5) {
    Unsubscribe u;
    u.packet_id = r.u16();
    if (v5) u.properties = r.properties();
    while (r.left() > 0 && !r.failed()) u.filters.emplace_back(r.utf8("topic filter"));
    if (u.filters.empty() && !r.failed())
        return reject(r, "UNSUBSCRIBE without a topic filter [MQTT-3.10.3-2]");
    return u;
}

Packet decode_disconnect(Reader& r, bool v5) {
    Disconnect d;
    if (v5 && r.left() > 0) {
        d.reason = r.u8();
        if (r.left() > 0) d.properties = r.properties();
    }
    return d;
}

Packet decode_body(const FixedHeader& h, Reader& r, bool v5) {
    switch (h.type) {
        case PacketType::Connect:
            return decode_connect(r);
        case PacketType::Connack:
            return decode_connack(r, v5);
        case PacketType::Publish:
            return decode_publish(r, h.flags, v5);
        case PacketType::Puback:
        case PacketType::Pubrec:
        case PacketType::Pubrel:
        case PacketType::Pubcomp:
            return decode_ack(r, h.type, v5);
        case PacketType::Subscribe:
            return decode_subscribe(r, v5);
        case PacketType::Suback:
        case PacketType::Unsuback:
            return decode_suback(r, h.type, v5);
        case PacketType::Unsubscribe:
            return decode_unsubscribe(r, v5);
        case PacketType::Pingreq:
            return Pingreq{};
        case PacketType::Pingresp:
            return Pingresp{};
        case PacketType::Disconnect:
            return decode_disconnect(r, v5);
        case PacketType::Auth:
            return reject(r, "AUTH (enhanced authentication) is not supported");
    }
    return reject(r, "unknown packet type");
}

}  // namespace

DecodeResult decode(std::string_view in, Version version, std::uint32_t max_packet_size) {
    FixedHeader h;
    if (auto stop = read_fixed_header(in, max_packet_size, h)) return std::move(*stop);
    Reader r(in.substr(h.size, h.remaining));
    Packet packet = decode_body(h, r, version == Version::V5);
    if (r.failed()) return malformed(r.error());
    if (r.left() != 0) return malformed("unexpected bytes at the end of the packet");
    DecodeResult result;
    result.status = DecodeStatus::Ok;
    result.consumed = h.size + h.remaining;
    result.packet = std::move(packet);
    return result;
}

}  // namespace mqtt::protocol

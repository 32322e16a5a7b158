#pragma once
// MQTT 3.1.1 and 5.0 packet codec: value types for every control packet, encoding into a byte
// buffer and incremental decoding from one. Pure: no I/O, no clocks, no state between calls.
// Section numbers refer to the MQTT 5.0 specification (OASIS, 2019) unless marked 3.1.1.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "mqtt/reason_code.hpp"

namespace mqtt::protocol {

enum class Version : std::uint8_t { V311 = 4, V5 = 5 };

enum class PacketType : std::uint8_t {
    Connect = 1,
    Connack,
    Publish,
    Puback,
    Pubrec,
    Pubrel,
    Pubcomp,
    Subscribe,
    Suback,
    Unsubscribe,
    Unsuback,
    Pingreq,
    Pingresp,
    Disconnect,
    Auth,
};

// Reason codes are the layer-wide vocabulary (mqtt/reason_code.hpp). Packets keep the byte
// as it came off the wire; compare it with code_of(ReasonCode::...).
using mqtt::code_of;
using mqtt::is_failure;
using mqtt::reason_text;
using mqtt::ReasonCode;

// The largest Remaining Length four varint bytes can express (1.5.5), so the largest packet a
// peer may announce unless it sets a smaller Maximum Packet Size.
inline constexpr std::uint32_t kMaxRemainingLength = 268'435'455;

// Property identifiers used by this client (2.2.2.2).
enum class PropertyId : std::uint8_t {
    PayloadFormatIndicator = 0x01,
    MessageExpiryInterval = 0x02,
    ContentType = 0x03,
    ResponseTopic = 0x08,
    CorrelationData = 0x09,
    SubscriptionIdentifier = 0x0B,
    SessionExpiryInterval = 0x11,
    AssignedClientIdentifier = 0x12,
    ServerKeepAlive = 0x13,
    AuthenticationMethod = 0x15,
    AuthenticationData = 0x16,
    RequestProblemInformation = 0x17,
    WillDelayInterval = 0x18,
    RequestResponseInformation = 0x19,
    ResponseInformation = 0x1A,
    ServerReference = 0x1C,
    ReasonString = 0x1F,
    ReceiveMaximum = 0x21,
    TopicAliasMaximum = 0x22,
    TopicAlias = 0x23,
    MaximumQos = 0x24,
    RetainAvailable = 0x25,
    UserProperty = 0x26,
    MaximumPacketSize = 0x27,
    WildcardSubscriptionAvailable = 0x28,
    SubscriptionIdentifierAvailable = 0x29,
    SharedSubscriptionAvailable = 0x2A,
};

struct Property {
    PropertyId id;
    // Integers (byte, two-byte, four-byte, variable), strings/binary, or a user property pair.
    std::variant<std::uint32_t, std::string, std::pair<std::string, std::string>> value;
    bool operator==(const Property&) const = default;
};

struct Properties {
    std::vector<Property> items;
    std::optional<std::uint32_t> number(PropertyId id) const;
    std::optional<std::string_view> text(PropertyId id) const;
    Properties& add(PropertyId id, std::uint32_t v) {
        items.push_back({id, v});
        return *this;
    }
    Properties& add(PropertyId id, std::string v) {
        items.push_back({id, std::move(v)});
        return *this;
    }
    bool operator==(const Properties&) const = default;
};

struct Will {
    std::string topic;
    std::string payload;
    std::uint8_t qos{0};
    bool retain{false};
    Properties properties;
    bool operator==(const Will&) const = default;
};

struct Connect {
    Version version{Version::V5};
    std::string client_id;
    bool clean_start{true};
    std::uint16_t keepalive_s{30};
    std::optional<std::string> username;
    std::optional<std::string> password;
    std::optional<Will> will;
    Properties properties;
    bool operator==(const Connect&) const = default;
};

struct Connack {
    bool session_present{false};
    std::uint8_t reason{0};  // MQTT 3.1.1 return codes mapped to reason codes
    Properties properties;
    bool operator==(const Connack&) const = default;
};

// Topic and payload view the decoded buffer: valid until the caller consumes those bytes.
struct Publish {
    std::string_view topic;
    std::string_view payload;
    std::uint8_t qos{0};
    bool retain{false};
    bool dup{false};
    std::uint16_t packet_id{0};  // only for QoS 1 and 2
    Properties properties;
    bool operator==(const Publish&) const = default;
};

// PUBACK, PUBREC, PUBREL and PUBCOMP share one shape (3.4-3.7).
struct Ack {
    PacketType type{PacketType::Puback};
    std::uint16_t packet_id{0};
    std::uint8_t reason{0};
    Properties properties;
    bool operator==(const Ack&) const = default;
};

struct Subscription {
    std::string filter;
    std::uint8_t options{1};  // bits 0-1 maximum QoS; MQTT 5 adds No Local, RAP, Retain Handling
    bool operator==(const Subscription&) const = default;
};

struct Subscribe {
    std::uint16_t packet_id{0};
    std::vector<Subscription> subscriptions;
    Properties properties;
    bool operator==(const Subscribe&) const = default;
};

// SUBACK and UNSUBACK: one reason code per filter (UNSUBACK carries none in 3.1.1).
struct Suback {
    PacketType type{PacketType::Suback};
    std::uint16_t packet_id{0};
    std::vector<std::uint8_t> reasons;
    Properties properties;
    bool operator==(const Suback&) const = default;
};

struct Unsubscribe {
    std::uint16_t packet_id{0};
    std::vector<std::string> filters;
    Properties properties;
    bool operator==(const Unsubscribe&) const = default;
};

struct Pingreq {
    bool operator==(const Pingreq&) const = default;
};
struct Pingresp {
    bool operator==(const Pingresp&) const = default;
};

struct Disconnect {
    std::uint8_t reason{0};
    Properties properties;
    bool operator==(const Disconnect&) const = default;
};

using Packet = std::variant<Connect, Connack, Publish, Ack, Subscribe, Suback, Unsubscribe, Pingreq,
                            Pingresp, Disconnect>;

// Appends the encoding of `packet` to `out`. The version decides whether properties and
// reason codes are written (MQTT 5) or left out (3.1.1).
void encode(const Packet& packet, Version version, std::string& out);
// The hot path: a PUBLISH without building a Publish value. Returns the offset in `out` of
// the first byte, so a resend can set the DUP flag in place. `properties` (MQTT 5 only) is an
// encoded property list without its length, as append_user_property() writes it.
std::size_t encode_publish(std::string_view topic, std::string_view payload, std::uint8_t qos,
                           bool retain, bool dup, std::uint16_t packet_id, Version version,
                           std::string& out, std::string_view properties = {});
// Appends one User Property (3.3.2.3.7) to an encoded property list.
void append_user_property(std::string& properties, std::string_view key, std::string_view value);
// Appends a string or binary property (both a two-byte length and the bytes, 1.5.4 and 1.5.6),
// such as the Response Topic (3.3.2.3.5) or the Correlation Data (3.3.2.3.6).
void append_string_property(std::string& properties, PropertyId id, std::string_view value);

enum class DecodeStatus { Ok, NeedMore, Malformed };

struct DecodeResult {
    DecodeStatus status{DecodeStatus::NeedMore};
    std::size_t consumed{0};  // bytes of `in` the packet used (Ok only)
    Packet packet;
    std::string error;  // Malformed: what was wrong, naming the rule
};

// Decodes the first packet in `in`. NeedMore: `in` holds only part of a packet.
// `max_packet_size` bounds the remaining length a peer may announce.
DecodeResult decode(std::string_view in, Version version,
                    std::uint32_t max_packet_size = kMaxRemainingLength);

}  // namespace mqtt::protocol

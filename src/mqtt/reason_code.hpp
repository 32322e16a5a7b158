#pragma once
// MQTT 5 reason codes (MQTT 5.0, 2.4), the one vocabulary for results in every layer: the
// codec, the session, both engines and the programs. Below 0x80 is success. MQTT 3.1.1 has
// only CONNACK return codes and the SUBACK failure 0x80; they are mapped onto these.

#include <cstdint>
#include <optional>
#include <string_view>

namespace mqtt {

enum class ReasonCode : std::uint8_t {
    Success = 0x00,
    GrantedQos1 = 0x01,
    GrantedQos2 = 0x02,
    NoMatchingSubscribers = 0x10,
    NoSubscriptionExisted = 0x11,
    UnspecifiedError = 0x80,
    MalformedPacket = 0x81,
    ProtocolError = 0x82,
    ImplementationSpecificError = 0x83,
    UnsupportedProtocolVersion = 0x84,
    ClientIdentifierNotValid = 0x85,
    BadUserNameOrPassword = 0x86,
    NotAuthorized = 0x87,
    ServerUnavailable = 0x88,
    ServerBusy = 0x89,
    Banned = 0x8A,
    ServerShuttingDown = 0x8B,
    KeepAliveTimeout = 0x8D,
    SessionTakenOver = 0x8E,
    TopicFilterInvalid = 0x8F,
    TopicNameInvalid = 0x90,
    PacketIdentifierInUse = 0x91,
    PacketIdentifierNotFound = 0x92,
    ReceiveMaximumExceeded = 0x93,
    PacketTooLarge = 0x95,
    QuotaExceeded = 0x97,
    PayloadFormatInvalid = 0x99,
    RetainNotSupported = 0x9A,
    QosNotSupported = 0x9B,
    UseAnotherServer = 0x9C,
    ServerMoved = 0x9D,
    ConnectionRateExceeded = 0x9F,
};

// [MQTT 5.0, 2.4]: "a Reason Code of 0x80 or greater indicates failure".
constexpr bool is_failure(ReasonCode reason) {
    return static_cast<std::uint8_t>(reason) >= 0x80;
}
constexpr bool is_failure(std::uint8_t reason) {
    return reason >= 0x80;
}
constexpr std::uint8_t code_of(ReasonCode reason) {
    return static_cast<std::uint8_t>(reason);
}

std::string_view reason_text(ReasonCode reason);
inline std::string_view reason_text(std::uint8_t reason) {
    return reason_text(static_cast<ReasonCode>(reason));
}

// MQTT 3.1.1 CONNACK return codes (3.1.1, 3.2.2.3) as reason codes; nothing for the reserved
// codes 6-255.
std::optional<ReasonCode> reason_from_v311_connack(std::uint8_t return_code);
// The other way, for encoding: refusals without a 3.1.1 code become 3, "server unavailable".
std::uint8_t v311_connack_code(ReasonCode reason);

}  // namespace mqtt

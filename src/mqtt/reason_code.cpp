#include "mqtt/reason_code.hpp"

#include <array>

namespace mqtt {

// A table of names, one case per reason code: long, but only declarations.
std::string_view reason_text(ReasonCode reason) {  // NOLINT(readability-function-size)
    switch (reason) {
        case ReasonCode::Success:
            return "success";
        case ReasonCode::GrantedQos1:
            return "granted QoS 1";
        case ReasonCode::GrantedQos2:
            return "granted QoS 2";
        case ReasonCode::NoMatchingSubscribers:
            return "no matching subscribers";
        case ReasonCode::NoSubscriptionExisted:
            return "no subscription existed";
        case ReasonCode::UnspecifiedError:
            return "unspecified error";
        case ReasonCode::MalformedPacket:
            return "malformed packet";
        case ReasonCode::ProtocolError:
            return "protocol error";
        case ReasonCode::ImplementationSpecificError:
            return "implementation specific error";
        case ReasonCode::UnsupportedProtocolVersion:
            return "unsupported protocol version";
        case ReasonCode::ClientIdentifierNotValid:
            return "client identifier not valid";
        case ReasonCode::BadUserNameOrPassword:
            return "bad user name or password";
        case ReasonCode::NotAuthorized:
            return "not authorised";
        case ReasonCode::ServerUnavailable:
            return "server unavailable";
        case ReasonCode::ServerBusy:
            return "server busy";
        case ReasonCode::Banned:
            return "banned";
        case ReasonCode::ServerShuttingDown:
            return "server shutting down";
        case ReasonCode::KeepAliveTimeout:
            return "keep alive timeout";
        case ReasonCode::SessionTakenOver:
            return "session taken over";
        case ReasonCode::TopicFilterInvalid:
            return "topic filter invalid";
        case ReasonCode::TopicNameInvalid:
            return "topic name invalid";
        case ReasonCode::PacketIdentifierInUse:
            return "packet identifier in use";
        case ReasonCode::PacketIdentifierNotFound:
            return "packet identifier not found";
        case ReasonCode::ReceiveMaximumExceeded:
            return "receive maximum exceeded";
        case ReasonCode::PacketTooLarge:
            return "packet too large";
        case ReasonCode::QuotaExceeded:
            return "quota exceeded";
        case ReasonCode::PayloadFormatInvalid:
            return "payload format invalid";
        case ReasonCode::RetainNotSupported:
            return "retain not supported";
        case ReasonCode::QosNotSupported:
            return "QoS not supported";
        case ReasonCode::UseAnotherServer:
            return "use another server";
        case ReasonCode::ServerMoved:
            return "server moved";
        case ReasonCode::ConnectionRateExceeded:
            return "connection rate exceeded";
    }
    return "unknown reason code";
}

std::optional<ReasonCode> reason_from_v311_connack(std::uint8_t return_code) {
    static constexpr std::array<ReasonCode, 6> kMap{ReasonCode::Success,
                                                    ReasonCode::UnsupportedProtocolVersion,
                                                    ReasonCode::ClientIdentifierNotValid,
                                                    ReasonCode::ServerUnavailable,
                                                    ReasonCode::BadUserNameOrPassword,
                                                    ReasonCode::NotAuthorized};
    if (return_code >= kMap.size()) return std::nullopt;
    return kMap[return_code];
}

std::uint8_t v311_connack_code(ReasonCode reason) {
    switch (reason) {
        case ReasonCode::Success:
            return 0;
        case ReasonCode::UnsupportedProtocolVersion:
            return 1;
        case ReasonCode::ClientIdentifierNotValid:
            return 2;
        case ReasonCode::BadUserNameOrPassword:
            return 4;
        case ReasonCode::NotAuthorized:
            return 5;
        default:
            return 3;
    }
}

}  // namespace mqtt

#include "mqtt/error.hpp"

#include <fmt/format.h>

namespace mqtt {

Error broker_error(ErrorKind kind, std::string_view host, std::uint16_t port,
                   std::string_view reason) {
    return Error(kind, fmt::format("broker {}:{}: {}", host, port, reason));
}

Error connack_refusal(std::string_view host, std::uint16_t port,
                      const std::optional<std::string>& username, ReasonCode reason) {
    switch (reason) {
        case ReasonCode::BadUserNameOrPassword:
            return broker_error(
                ErrorKind::BadCredentials, host, port,
                "bad user name or password" + (username ? " (user '" + *username + "')" : ""));
        case ReasonCode::NotAuthorized:
            // Mosquitto answers a wrong password with "not authorised" under MQTT 3.1.1.
            return broker_error(
                ErrorKind::NotAuthorised, host, port,
                username ? "not authorised: user '" + *username +
                               "' refused (wrong password or no access)"
                         : "not authorised: anonymous clients refused (use --username/--password)");
        case ReasonCode::Banned:
            return broker_error(ErrorKind::NotAuthorised, host, port, "not authorised: banned");
        default:
            return broker_error(ErrorKind::Protocol, host, port,
                                fmt::format("connection refused: {} (reason code 0x{:02x})",
                                            reason_text(reason), code_of(reason)));
    }
}

Error suback_refusal(std::string_view host, std::uint16_t port, std::string_view filter,
                     ReasonCode reason) {
    // MQTT 3.1.1 has a single failure code, 0x80 [MQTT-3.9.3-2]; Mosquitto sends it (and 0x87
    // under MQTT 5) when an ACL denies the filter.
    const bool denied =
        reason == ReasonCode::NotAuthorized || reason == ReasonCode::UnspecifiedError;
    return broker_error(denied ? ErrorKind::NotAuthorised : ErrorKind::Protocol, host, port,
                        fmt::format("subscription to '{}' refused: {} (reason code 0x{:02x})",
                                    filter, reason_text(reason), code_of(reason)));
}

}  // namespace mqtt

#include "mqtt/client.hpp"

#include <fmt/format.h>

#include "mqtt/protocol/codec.hpp"

namespace mqtt {

std::unique_ptr<Client> make_client(Engine engine) {
    return engine == Engine::Native ? make_native_client() : make_libmosquitto_client();
}

Error broker_error(ErrorKind kind, std::string_view host, std::uint16_t port,
                   std::string_view reason) {
    return Error(kind, fmt::format("broker {}:{}: {}", host, port, reason));
}

void throw_connack_refusal(const ConnectOptions& o, std::uint8_t reason) {
    std::string why;
    ErrorKind kind = ErrorKind::NotAuthorised;
    switch (static_cast<protocol::ReasonCode>(reason)) {
        case protocol::ReasonCode::BadUserNameOrPassword:
            kind = ErrorKind::BadCredentials;
            why = "bad user name or password" +
                  (o.username ? " (user '" + *o.username + "')" : std::string());
            break;
        case protocol::ReasonCode::NotAuthorized:
            // Mosquitto answers a wrong password with "not authorised" under MQTT 3.1.1.
            why = o.username
                      ? "not authorised: user '" + *o.username +
                            "' refused (wrong password or no access)"
                      : "not authorised: anonymous clients refused (use --username/--password)";
            break;
        case protocol::ReasonCode::Banned:
            why = "not authorised: banned";
            break;
        default:
            kind = ErrorKind::Protocol;
            why = fmt::format("connection refused: {} (reason code 0x{:02x})",
                              protocol::reason_text(reason), reason);
    }
    throw broker_error(kind, o.host, o.port, why);
}

}  // namespace mqtt

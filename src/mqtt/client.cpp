#include "mqtt/client.hpp"

#include <fmt/format.h>

#include "mqtt/protocol/codec.hpp"

namespace mqtt {

std::unique_ptr<Client> make_client(Engine engine) {
    return engine == Engine::Native ? make_native_client() : make_libmosquitto_client();
}

void throw_connack_refusal(const ConnectOptions& o, std::uint8_t reason) {
    const std::string where = fmt::format("broker {}:{}: ", o.host, o.port);
    switch (static_cast<protocol::ReasonCode>(reason)) {
        case protocol::ReasonCode::BadUserNameOrPassword:
            throw Error(ErrorKind::BadCredentials,
                        where + "bad user name or password" +
                            (o.username ? " (user '" + *o.username + "')" : ""));
        case protocol::ReasonCode::NotAuthorized:
            // Mosquitto answers a wrong password with "not authorised" under MQTT 3.1.1.
            throw Error(
                ErrorKind::NotAuthorised,
                where + (o.username ? "not authorised: user '" + *o.username +
                                          "' refused (wrong password or no access)"
                                    : std::string("not authorised: anonymous clients refused "
                                                  "(use --username/--password)")));
        case protocol::ReasonCode::Banned:
            throw Error(ErrorKind::NotAuthorised, where + "not authorised: banned");
        default:
            throw Error(ErrorKind::Protocol,
                        where + fmt::format("connection refused: {} (reason code 0x{:02x})",
                                            protocol::reason_text(reason), reason));
    }
}

}  // namespace mqtt

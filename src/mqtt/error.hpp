#pragma once
// The errors of the MQTT layer, below both the socket layer and the client interface: every
// error carries a kind (the programs map it to an exit status) and one line naming host:port
// and the reason.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "mqtt/reason_code.hpp"

namespace mqtt {

enum class ErrorKind {
    Refused,         // nothing listens there (TCP connection refused)
    Unreachable,     // name does not resolve, no route, or no answer in time
    BadCredentials,  // CONNACK: bad user name or password
    NotAuthorised,   // CONNACK / SUBACK: not authorised
    Protocol,        // the broker broke or rejected the protocol
    Tls,             // the TLS handshake or a TLS record failed (certificate, alert, version)
    TlsSetup,        // our own certificates, key or CA files could not be used
    ConnectionLost,  // an established connection went away
    WebSocket,       // the WebSocket handshake was refused, or the server closed the WebSocket
                     // with a code about us (policy, protocol, too big): retrying cannot help
};

class Error : public std::runtime_error {
  public:
    Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const { return kind_; }

  private:
    ErrorKind kind_;
};

// "broker <host>:<port>: <reason>".
Error broker_error(ErrorKind kind, std::string_view host, std::uint16_t port,
                   std::string_view reason);
// A CONNACK refusal, naming the user where credentials are the likely cause.
Error connack_refusal(std::string_view host, std::uint16_t port,
                      const std::optional<std::string>& username, ReasonCode reason);
// A refused subscription (SUBACK reason >= 0x80), naming the filter. Both engines use it, so
// they agree on which refusals mean "not authorised".
Error suback_refusal(std::string_view host, std::uint16_t port, std::string_view filter,
                     ReasonCode reason);

}  // namespace mqtt

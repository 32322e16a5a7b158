#pragma once
// The client's side of the WebSocket opening handshake (RFC 6455 section 4.1), with no I/O of
// its own: request() is what to send, feed() judges what came back. MQTT over WebSocket asks
// for the subprotocol "mqtt" and must get it [MQTT-6.0.0-3, -4].

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace net {

// How to reach MQTT over WebSocket: the HTTP path and any extra request headers ("Name: value",
// as an authenticating proxy wants them).
struct WebSocketOptions {
    std::string path{"/mqtt"};
    std::vector<std::string> headers;
    bool operator==(const WebSocketOptions&) const = default;
};

// The subprotocol MQTT over WebSocket uses (MQTT 3.1.1 and 5 alike).
inline constexpr std::string_view kMqttSubprotocol = "mqtt";

// base64(SHA-1(key + the RFC's GUID)): what the server must answer in Sec-WebSocket-Accept.
std::string websocket_accept(std::string_view key);
// A fresh Sec-WebSocket-Key: 16 random bytes, base64.
std::string new_websocket_key();
// A problem with an extra header as given on the command line ("Name: value"), or empty.
std::string check_websocket_header(std::string_view header);

class WebSocketHandshake {
  public:
    // host and port go into the Host header; key is normally new_websocket_key().
    WebSocketHandshake(std::string_view host, std::uint16_t port, const WebSocketOptions& options,
                       std::string key);

    const std::string& request() const { return request_; }

    enum class Status {
        Incomplete,  // the answer's header has not ended yet: feed more
        Accepted,    // 101 with the right accept key and subprotocol
        Refused,     // anything else; error says what, transient whether a retry may succeed
    };
    struct Result {
        Status status{Status::Incomplete};
        std::size_t consumed{0};  // with Accepted: the header's length (frames may follow it)
        std::string error;        // with Refused: one line naming the path and the status
        bool transient{false};    // with Refused: 408, 429 and 5xx: the server may take us later
    };
    // The bytes received so far (all of them, from the first).
    Result feed(std::string_view received) const;

  private:
    Result judge(std::string_view header) const;
    Result refused(std::string_view why, bool transient = false) const;

    std::string path_;
    std::string key_;
    std::string request_;
};

}  // namespace net

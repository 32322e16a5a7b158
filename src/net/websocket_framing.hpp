#pragma once
// WebSocket framing for a client (RFC 6455 section 5), with no I/O of its own, like the MQTT
// session: wrap() turns bytes to send into a masked binary frame, unwrap() turns received bytes
// into the data they carry and answers control frames. libwslay's frame layer does the headers
// and the masking (docs/design.md says why it and not Beast or our own); the rules MQTT and the
// RFC add on top (binary frames only, no masked or reserved frames from a server, fragments in
// order, ping answered, close answered and reported) are here.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct wslay_frame_context;

namespace net {

class WebSocketFraming {
  public:
    WebSocketFraming();
    ~WebSocketFraming();
    WebSocketFraming(const WebSocketFraming&) = delete;  // owns the wslay context
    WebSocketFraming& operator=(const WebSocketFraming&) = delete;

    // RFC 6455 section 7.4.1's codes this layer sends.
    static constexpr std::uint16_t kNormalClosure = 1000;
    static constexpr std::uint16_t kProtocolError = 1002;
    static constexpr std::uint16_t kNoStatus = 1005;  // a close frame without a code

    // Appends one masked binary frame carrying `data` to `wire`.
    void wrap(std::string_view data, std::string& wire);
    // Appends a masked close frame with `code` to `wire`.
    void wrap_close(std::uint16_t code, std::string& wire);

    struct Close {
        std::uint16_t code{kNoStatus};
        std::string reason;
    };
    struct Unwrapped {
        std::optional<Close> close;  // the server closed the WebSocket: read no more
        std::string error;           // a frame broke the rules: close with 1002, say this
    };
    // Takes every byte of `received` (a frame may end in a later call): appends the data they
    // carry to `data`, and the answers they need (pong, close) to `reply`.
    Unwrapped unwrap(std::string_view received, std::string& data, std::string& reply);

    // "1001 (going away)": a close code and what the RFC calls it.
    static std::string describe(std::uint16_t code);
    // Whether a server that closed with `code` may take us again (restart, overload).
    static bool transient(std::uint16_t code);

  private:
    friend struct WebSocketFramingAccess;  // wslay's callbacks

    std::string begin_frame(bool fin, std::uint8_t rsv, std::uint8_t opcode, bool masked);
    void end_frame(Unwrapped& result, std::string& reply);
    void append_frame(std::uint8_t opcode, std::string_view payload, std::string& wire);

    wslay_frame_context* context_{nullptr};
    // The callbacks' view of the current call.
    std::string_view input_;
    std::string* output_{nullptr};
    // The frame being received.
    bool in_frame_{false};
    std::uint8_t opcode_{0};
    std::uint64_t remaining_{0};
    std::string control_;     // a control frame's payload so far
    bool in_message_{false};  // a data message's first frame came without FIN
    bool closed_{false};
};

}  // namespace net

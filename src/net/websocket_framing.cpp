#include "net/websocket_framing.hpp"

#include <sys/types.h>

#include <openssl/rand.h>
#include <wslay/wslay.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <new>
#include <stdexcept>

namespace net {
namespace {

struct WslayCallbacks {
    static ssize_t send(const std::uint8_t* data, std::size_t size, int, void* user);
    static ssize_t recv(std::uint8_t* buffer, std::size_t size, int, void* user);
    static int mask(std::uint8_t* buffer, std::size_t size, void*);
};

int WslayCallbacks::mask(std::uint8_t* buffer, std::size_t size, void*) {
    // The masking key must be unpredictable to intermediaries (RFC 6455 section 10.3): from
    // OpenSSL's generator, fetched 4 KB at a time (a call costs ~1.7 us; one per frame would
    // be a tenth of a message's budget).
    thread_local std::array<std::uint8_t, 4096> pool{};
    thread_local std::size_t used = pool.size();
    if (used + size > pool.size()) {
        if (RAND_bytes(pool.data(), static_cast<int>(pool.size())) != 1) return -1;
        used = 0;
    }
    std::memcpy(buffer, pool.data() + used, size);
    used += size;
    return 0;
}

bool is_control_opcode(std::uint8_t opcode) {
    return opcode >= WSLAY_CONNECTION_CLOSE;
}

}  // namespace

// wslay's callbacks reach the framing object's current buffers through this.
struct WebSocketFramingAccess {
    static std::string_view& input(WebSocketFraming& f) { return f.input_; }
    static std::string* output(WebSocketFraming& f) { return f.output_; }
};

ssize_t WslayCallbacks::send(const std::uint8_t* data, std::size_t size, int, void* user) {
    WebSocketFramingAccess::output(*static_cast<WebSocketFraming*>(user))
        ->append(reinterpret_cast<const char*>(data), size);
    return static_cast<ssize_t>(size);
}

ssize_t WslayCallbacks::recv(std::uint8_t* buffer, std::size_t size, int, void* user) {
    std::string_view& input = WebSocketFramingAccess::input(*static_cast<WebSocketFraming*>(user));
    const std::size_t n = std::min(size, input.size());
    if (n == 0) return 0;  // wslay: WSLAY_ERR_WANT_READ
    std::memcpy(buffer, input.data(), n);
    input.remove_prefix(n);
    return static_cast<ssize_t>(n);
}

WebSocketFraming::WebSocketFraming() {
    const wslay_frame_callbacks callbacks{&WslayCallbacks::send, &WslayCallbacks::recv,
                                          &WslayCallbacks::mask};
    if (wslay_frame_context_init(&context_, &callbacks, this) != 0) throw std::bad_alloc();
}

WebSocketFraming::~WebSocketFraming() {
    wslay_frame_context_free(context_);
}

void WebSocketFraming::append_frame(std::uint8_t opcode, std::string_view payload,
                                    std::string& wire) {
    output_ = &wire;
    wslay_frame_iocb frame{};
    frame.fin = 1;
    frame.opcode = opcode;
    frame.mask = 1;  // every client frame is masked (RFC 6455 section 5.3)
    frame.payload_length = payload.size();
    frame.data = reinterpret_cast<const std::uint8_t*>(payload.data());
    frame.data_length = payload.size();
    // The output callback takes everything, so one call sends the whole frame.
    const ssize_t sent = wslay_frame_send(context_, &frame);
    output_ = nullptr;
    if (sent < 0)
        throw std::runtime_error(
            fmt::format("wslay could not frame {} bytes (error {})", payload.size(), sent));
}

void WebSocketFraming::wrap(std::string_view data, std::string& wire) {
    append_frame(WSLAY_BINARY_FRAME, data, wire);
}

void WebSocketFraming::wrap_close(std::uint16_t code, std::string& wire) {
    const char payload[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
    append_frame(WSLAY_CONNECTION_CLOSE, {payload, sizeof payload}, wire);
}

WebSocketFraming::Unwrapped WebSocketFraming::unwrap(std::string_view received, std::string& data,
                                                     std::string& reply) {
    Unwrapped result;
    input_ = received;
    while (!closed_ && result.error.empty()) {
        wslay_frame_iocb frame{};
        const ssize_t n = wslay_frame_recv(context_, &frame);
        if (n == WSLAY_ERR_WANT_READ) break;
        if (n < 0) {
            result.error =
                "a malformed frame header (a control frame over 125 bytes or in fragments, or a "
                "length not in its shortest form)";
            break;
        }
        if (!in_frame_) {
            result.error = begin_frame(frame.fin != 0, frame.rsv, frame.opcode, frame.mask != 0);
            if (!result.error.empty()) break;
            remaining_ = frame.payload_length;
        }
        const std::string_view chunk(reinterpret_cast<const char*>(frame.data), frame.data_length);
        (is_control_opcode(opcode_) ? control_ : data).append(chunk);
        remaining_ -= frame.data_length;
        if (remaining_ == 0) end_frame(result, reply);
    }
    input_ = {};
    if (!result.error.empty() && !closed_) {
        closed_ = true;
        wrap_close(kProtocolError, reply);
    }
    return result;
}

std::string WebSocketFraming::begin_frame(bool fin, std::uint8_t rsv, std::uint8_t opcode,
                                          bool masked) {
    if (masked) return "the server masked a frame (RFC 6455 section 5.1)";
    if (rsv != 0) return "reserved bits set in a frame (no extension was agreed)";
    switch (opcode) {
        case WSLAY_CONTINUATION_FRAME:
            if (!in_message_) return "a continuation frame with no message to continue";
            break;
        case WSLAY_TEXT_FRAME:
            return "a text frame (MQTT travels in binary frames only [MQTT-6.0.0-1])";
        case WSLAY_BINARY_FRAME:
            if (in_message_) return "a new message before the fragments of the last one ended";
            break;
        case WSLAY_CONNECTION_CLOSE:
        case WSLAY_PING:
        case WSLAY_PONG:
            break;
        default:
            return fmt::format("a frame with the reserved opcode {}", opcode);
    }
    if (!is_control_opcode(opcode)) in_message_ = !fin;
    in_frame_ = true;
    opcode_ = opcode;
    control_.clear();
    return {};
}

void WebSocketFraming::end_frame(Unwrapped& result, std::string& reply) {
    in_frame_ = false;
    if (opcode_ == WSLAY_PING) return append_frame(WSLAY_PONG, control_, reply);
    if (opcode_ != WSLAY_CONNECTION_CLOSE) return;
    closed_ = true;
    Close close;
    if (control_.size() == 1) {
        result.error = "a close frame with a 1-byte code";
        closed_ = false;  // unwrap() answers it with 1002
        return;
    }
    if (control_.size() >= 2) {
        close.code = static_cast<std::uint16_t>(static_cast<unsigned char>(control_[0]) << 8 |
                                                static_cast<unsigned char>(control_[1]));
        close.reason = control_.substr(2);
    }
    // Answer with the same code (section 5.5.1); 1005 must not be sent, so 1000 then.
    wrap_close(close.code == kNoStatus ? kNormalClosure : close.code, reply);
    result.close = std::move(close);
}

std::string WebSocketFraming::describe(std::uint16_t code) {
    const char* name = "";
    switch (code) {
        case 1000:
            name = "normal closure";
            break;
        case 1001:
            name = "going away";
            break;
        case 1002:
            name = "protocol error";
            break;
        case 1003:
            name = "unsupported data";
            break;
        case 1005:
            name = "no status code";
            break;
        case 1007:
            name = "invalid payload data";
            break;
        case 1008:
            name = "policy violation";
            break;
        case 1009:
            name = "message too big";
            break;
        case 1010:
            name = "mandatory extension";
            break;
        case 1011:
            name = "internal error";
            break;
        case 1012:
            name = "service restart";
            break;
        case 1013:
            name = "try again later";
            break;
        case 1014:
            name = "bad gateway";
            break;
        default:
            name = code >= 4000 ? "application's own code" : "unknown code";
            break;
    }
    return fmt::format("{} ({})", code, name);
}

bool WebSocketFraming::transient(std::uint16_t code) {
    // What the server says about itself (going away, restart, overload), or nothing said;
    // not what it says about us (protocol error, policy, too big).
    switch (code) {
        case 1000:
        case 1001:
        case 1005:
        case 1011:
        case 1012:
        case 1013:
        case 1014:
            return true;
        default:
            return false;
    }
}

}  // namespace net

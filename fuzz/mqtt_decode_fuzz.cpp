// libFuzzer target: bytes from the wire. The MQTT codec must turn any bytes into a packet,
// "need more" or a clear error, never a crash or undefined behaviour; whatever decodes must
// encode and decode again to the same packet. The same bytes as WebSocket frames and as a
// handshake answer: never a crash, and frames cut anywhere unwrap as they do whole.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mqtt/protocol/codec.hpp"
#include "net/websocket_framing.hpp"
#include "net/websocket_handshake.hpp"

namespace {

struct Unwrapped {
    std::string data;
    std::string reply;
    bool closed{false};
    std::uint16_t code{0};
    std::string error;
};

Unwrapped unwrap_in_pieces(std::string_view in, std::size_t cut) {
    net::WebSocketFraming framing;
    Unwrapped u;
    for (const std::string_view piece : {in.substr(0, cut), in.substr(cut)}) {
        const auto r = framing.unwrap(piece, u.data, u.reply);
        if (r.close) {
            u.closed = true;
            u.code = r.close->code;
        }
        if (!r.error.empty()) u.error = r.error;
    }
    return u;
}

void websocket(std::string_view in) {
    const Unwrapped whole = unwrap_in_pieces(in, in.size());
    if (whole.data.size() > in.size()) std::abort();  // frames only take bytes away
    const Unwrapped cut = unwrap_in_pieces(in, in.size() / 2);
    // Masks differ between replies, so compare what was unwrapped and how it ended.
    if (cut.data != whole.data || cut.closed != whole.closed || cut.code != whole.code ||
        cut.error != whole.error || cut.reply.empty() != whole.reply.empty())
        std::abort();
    const net::WebSocketHandshake handshake("127.0.0.1", 80, {}, "dGhlIHNhbXBsZSBub25jZQ==");
    const auto answer = handshake.feed(in);
    if (answer.status == net::WebSocketHandshake::Status::Accepted && answer.consumed > in.size())
        std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mqtt::protocol;
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    websocket(in);
    for (Version v : {Version::V311, Version::V5}) {
        const DecodeResult d = decode(in, v);
        if (d.status != DecodeStatus::Ok) continue;
        if (d.consumed == 0 || d.consumed > size) std::abort();
        std::string again;
        encode(d.packet, v, again);
        const DecodeResult d2 = decode(again, v);
        if (d2.status != DecodeStatus::Ok || d2.consumed != again.size()) std::abort();
        if (!(d2.packet == d.packet)) std::abort();  // every field, not only the type
    }
    return 0;
}

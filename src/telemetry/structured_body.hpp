#pragma once
// The bodies a real pipeline decodes: the reading as protocol buffers (src/telemetry/
// reading.proto), CBOR (RFC 8949) or MessagePack, inside the binary envelope or beside the
// MQTT 5 user properties, which carry the run, the version and the checksum. The subscriber
// decodes each body and checks it against its envelope. Pure logic: no I/O, no MQTT.
//
// CBOR and MessagePack bodies are a map with the JSON reading's keys but "v", "run" and "crc":
// "dev", "seq", "ts", "temp", "hum", "pres", "batt", optionally "fault" and "batt_low", and "pad"
// (a byte string) for filler; docs/reference.md specifies them.

#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "telemetry/envelope.hpp"
#include "telemetry/payload.hpp"
#include "telemetry/payload_format.hpp"

namespace telemetry {

inline bool is_structured(BodyKind kind) {
    return kind == BodyKind::Protobuf || kind == BodyKind::Cbor || kind == BodyKind::MessagePack;
}

// The body kind of a format that encodes the reading so; nullopt for the others.
inline std::optional<BodyKind> structured_kind(PayloadFormat format) {
    switch (format) {
        case PayloadFormat::Protobuf:
            return BodyKind::Protobuf;
        case PayloadFormat::Cbor:
            return BodyKind::Cbor;
        case PayloadFormat::MessagePack:
            return BodyKind::MessagePack;
        default:
            return std::nullopt;
    }
}

// Appends the body of `kind` for `r` (values in hundredths, as JSON writes them), with `pad`
// as its filler field when not empty.
void append_structured_body(BodyKind kind, const Reading& r, std::string_view pad,
                            std::string& out);

// The filler bytes that bring a body of `bare` bytes without filler to `target` bytes, or the
// nearest size above it: the encodings' own length headers grow by steps, and no filler field
// is shorter than 3 bytes (protobuf) or 6 (CBOR, MessagePack): at most 6 bytes more. 0 when
// `bare` >= `target`.
std::size_t structured_pad_length(BodyKind kind, std::size_t bare, std::size_t target);

// Completes `r`, whose device, seq and time its envelope gave, from a body of `kind`: its values,
// after checking that it says the same device, seq and time. The problem, if any (malformed).
std::optional<std::string> read_structured_body(BodyKind kind, std::string_view body, Reading& r);

// A value as the sensors measure it, to two decimals: every format carries the same values.
inline double rounded_to_hundredths(double value) {
    return static_cast<double>(std::llround(value * 100.0)) / 100.0;
}

// The codecs behind the two functions above, one per library (libprotobuf, nlohmann/json):
// `into` receives what the body says; the problem, if it is not such a body.
void append_protobuf_body(const Reading& r, std::string_view pad, std::string& out);
std::optional<std::string> decode_protobuf_body(std::string_view body, Reading& into);
void append_map_body(BodyKind kind, const Reading& r, std::string_view pad, std::string& out);
std::optional<std::string> decode_map_body(BodyKind kind, std::string_view body, Reading& into);

}  // namespace telemetry

#pragma once
// The binary envelope: what the ledger needs (run, device, sequence number, send time, a
// checksum of the whole message) around any body. docs/reference.md, "The binary envelope",
// is its specification; a producer needs nothing else. Pure logic: no I/O, no MQTT.
//
//   offset  size  field
//   0       2     magic "MT" (0x4D 0x54)
//   2       1     envelope version, 1
//   3       1     body kind: 0 opaque bytes, 1 packed sensor reading, 2 varying bytes,
//                 3 protobuf reading, 4 CBOR reading, 5 MessagePack reading
//   4       4     length of the whole payload, these 30 + R + D + body bytes
//   8       1     R, the run id's length (1-64), then the run id
//   9+R     1     D, the device id's length (1-64), then the device id
//   10+R+D  8     sequence number, >= 1
//   18+R+D  8     send time, microseconds since the Unix epoch, > 0
//   26+R+D  n     body
//   end-4   4     CRC-32 (zlib's, ISO-HDLC) of every byte before it
// Integers are unsigned and big-endian (network order); ids are [A-Za-z0-9._-].

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "telemetry/payload.hpp"

namespace telemetry {

inline constexpr std::uint8_t kEnvelopeVersion = 1;
inline constexpr std::size_t kEnvelopeFixedSize = 30;  // all but the two ids and the body

// Opaque bodies are compared between copies of a message (a second publisher under the same
// run id sends other bytes); Varying ones are not, because a publisher that regenerates them
// after a restart writes new times and values into them (--payload-format template). Kinds 3-5
// are the reading in a pipeline's encoding (telemetry/structured_body.hpp).
enum class BodyKind : std::uint8_t {
    Opaque = 0,
    SensorReading = 1,
    Varying = 2,
    Protobuf = 3,
    Cbor = 4,
    MessagePack = 5
};
inline constexpr std::uint8_t kLastBodyKind = 5;

// A kind's name in the user property mt-body: opaque, reading, varying, protobuf, cbor, msgpack.
std::string_view body_kind_name(BodyKind kind);
std::optional<BodyKind> parse_body_kind(std::string_view name);

// The packed sensor reading (body kind 1): 14 bytes, then any filler up to the payload size.
//   0 temperature, i32, hundredths of a degree Celsius   4 humidity, u16, hundredths of a %
//   6 pressure, u32, hundredths of a hPa                 10 battery, u16, hundredths of a %
//   12 fault: 0 none, 1 stuck, 2 spike, 3 dropout        13 flags: bit 0 battery low
inline constexpr std::size_t kPackedReadingSize = 14;

inline bool is_envelope(std::string_view payload) {
    return payload.size() >= 2 && payload[0] == 'M' && payload[1] == 'T';
}

inline std::size_t envelope_size(std::size_t run_id_length, std::size_t device_id_length,
                                 std::size_t body_size) {
    return kEnvelopeFixedSize + run_id_length + device_id_length + body_size;
}

// Writes the envelope's header for `r` (run, device, seq, ts) into `out` (cleared first), for
// a payload of `total` bytes (0: set by seal_envelope); the caller appends the body and then
// seal_envelope().
void open_envelope(const Reading& r, BodyKind kind, std::size_t total, std::string& out);
// Appends the packed values of `r` (body kind 1).
void append_packed_reading(const Reading& r, std::string& out);
// Writes the length field if it is 0 and appends the checksum: the payload is complete.
void seal_envelope(std::string& out);

// The reading of an envelope (for an opaque body, its ids, seq and ts with no values), or
// the problem: a checksum that does not match is Corrupt; a wrong magic, version, kind,
// length or field is Malformed. `content` digests the values, or an opaque body's bytes.
DecodedReading decode_envelope(std::string_view payload);

// A reading whose ids, seq and ts are known, completed from its body: an opaque body's digest,
// or a packed reading's values (Malformed when they break their rules).
DecodedReading read_body(Reading r, BodyKind kind, std::string_view body);

// The body of a payload that decode_envelope() accepted.
std::string_view envelope_body(std::string_view payload);

}  // namespace telemetry

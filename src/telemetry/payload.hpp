#pragma once
// The telemetry payload schema (documented in docs/reference.md, "Payload schema") and its codec.
// Pure logic: no I/O, no MQTT.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace telemetry {

inline constexpr int kSchemaVersion = 1;

// A sensor failure a device reports with its reading (optional "fault" field).
enum class SensorFault : std::uint8_t { None, Stuck, Spike, Dropout };
std::string_view fault_name(SensorFault fault);  // "stuck", "spike", "dropout"; "" for None

// One sensor reading as it travels from a device to the consumer.
struct Reading {
    std::string run;       // run id: which publisher run produced it
    std::string device;    // device id, also the middle level of the topic
    std::uint64_t seq{};   // per-device sequence number, starting at 1
    std::int64_t ts_us{};  // send time, microseconds since the Unix epoch
    double temperature_c{};
    double humidity_pct{};
    double pressure_hpa{};
    double battery_pct{};
    SensorFault fault{SensorFault::None};  // "fault": the temperature sensor misbehaved
    bool battery_low{false};               // "batt_low": true below 20%

    bool operator==(const Reading&) const = default;
};

// Run and device ids are written into JSON and topics unescaped, so both ends restrict them to
// 1-64 characters of [A-Za-z0-9._-].
bool is_plain_identifier(std::string_view id);

// Appends the JSON encoding of `reading` to `out` (cleared first) and returns it as a view.
// Values are written with two decimals: the precision of the simulated sensors.
std::string_view encode_reading(const Reading& reading, std::string& out);

// Every payload ends with ,"crc":"<8 hex digits>"} : the CRC-32 (zlib's, ISO-HDLC) of all the
// bytes before that suffix. A payload whose checksum does not match was corrupted on the way;
// one that lacks the suffix or breaks the schema is malformed.
inline constexpr std::size_t kCrcSuffixSize = 18;  // ,"crc":"xxxxxxxx"}
// zlib's CRC-32 (ISO-HDLC) of `body`: the checksum of every payload form.
std::uint32_t payload_crc(std::string_view body);

enum class DecodeProblem { None, Malformed, Corrupt };

// Outcome of decoding: either a reading, or the problem and its reason.
struct DecodedReading {
    std::optional<Reading> reading;
    std::string error;  // empty when `reading` holds a value
    DecodeProblem problem{DecodeProblem::None};
    // What the reading says apart from its send time: content_digest() of its values, or a
    // digest of an opaque body's bytes; 0 when unknown.
    std::uint64_t content{0};
    // False for a body without sensor values (opaque or varying): ids, seq and ts only.
    bool has_values{true};
    // True for a JSON reading; false for a body in the binary envelope or beside user
    // properties, which `body` then shows (a view into the payload, valid as long as it).
    bool json{true};
    std::string_view body{};
};

DecodedReading decode_reading(std::string_view payload);

// What a reading says that does not depend on its send time (pressure, battery, fault), as a
// non-zero 64-bit digest: a QoS 1 redelivery, a repair and a resumed publisher's resend (its
// sensor models replay) say the same; another publisher under the same run id and another seed
// says something else.
std::uint64_t content_digest(const Reading& reading);

}  // namespace telemetry

#pragma once
// The envelope as MQTT 5 user properties (--envelope properties): what the ledger needs travels
// beside the body, which stays exactly as the device sends it (a real protobuf, a firmware
// chunk, 16 bytes). docs/reference.md, "The envelope as user properties", is its
// specification. Pure logic: no I/O, no MQTT (the app hands the properties over as pairs).
//
//   mt-v 1 | mt-run <run id> | mt-dev <device id> | mt-seq <decimal> | mt-ts <decimal µs>
//   mt-body opaque|reading|varying|protobuf|cbor|msgpack
//   mt-crc <CRC-32 of the body, 8 lower-case hex digits>

#include <array>
#include <span>
#include <string>
#include <string_view>

#include "telemetry/envelope.hpp"
#include "telemetry/payload.hpp"

namespace telemetry {

struct KeyValue {
    std::string_view key;
    std::string_view value;
};

// A message's user properties, written once and read as pairs (views into this object).
class PropertyEnvelope {
  public:
    static constexpr std::size_t kCount = 7;
    void write(const Reading& r, BodyKind kind, std::string_view body);
    std::array<KeyValue, kCount> pairs() const;

  private:
    std::array<std::string, kCount> values_;
};

// Whether a message's properties carry the envelope (an "mt-v" property).
bool has_property_envelope(std::span<const KeyValue> properties);

// The reading of a body and its properties, or the problem: a checksum that does not match the
// body is Corrupt; a missing or broken property Malformed, named.
DecodedReading decode_property_envelope(std::string_view body,
                                        std::span<const KeyValue> properties);

}  // namespace telemetry

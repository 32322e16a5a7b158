#pragma once
// What a message's payload is made of (--payload-format) and how large it is (--payload-size),
// as the user chose them. Pure logic: parsing and validation only.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace telemetry {

// json: the schema v1 reading (the default, README's schema); binary: the reading packed
// behind the binary envelope; random: incompressible bytes behind the envelope (the broker's
// and TLS's raw cost); template: a body written per message (telemetry/payload_template.hpp);
// file: the bytes of files, each device sending them in turn; protobuf, cbor, msgpack: the
// reading in a pipeline's encoding (telemetry/structured_body.hpp). docs/reference.md
// documents each.
enum class PayloadFormat : std::uint8_t {
    Json,
    Binary,
    Random,
    Template,
    File,
    Protobuf,
    Cbor,
    MessagePack
};

std::string_view format_name(PayloadFormat format);  // "json", "binary", ...
std::optional<PayloadFormat> parse_payload_format(std::string_view name);

// Bytes per payload: one size, or a range drawn per message; {0, 0}: each format's own size.
struct PayloadSize {
    std::size_t min{0};
    std::size_t max{0};
    bool given() const { return max != 0; }
    bool operator==(const PayloadSize&) const = default;
};

// The largest payload --payload-size accepts: 16 MiB. Mosquitto's message_size_limit defaults
// to the protocol's 256 MB, but a window of such messages is gigabytes of memory.
inline constexpr std::size_t kMaxPayloadSize = std::size_t{16} << 20;

// "N", "N..M", each with an optional k/K (1,024) or M (1,048,576) suffix; the size or the
// problem, one line naming it.
std::variant<PayloadSize, std::string> parse_payload_size(std::string_view text);

// Where the ledger's fields travel (--envelope): in the payload (JSON's own fields, or the
// binary envelope around the body), or as MQTT 5 user properties beside an untouched body
// (telemetry/property_envelope.hpp).
enum class Envelope : std::uint8_t { Payload, Properties };

struct PayloadSpec {
    PayloadSpec(PayloadFormat f = PayloadFormat::Json, PayloadSize s = {},
                Envelope e = Envelope::Payload)
        : format(f), size(s), envelope(e) {}
    PayloadFormat format{PayloadFormat::Json};
    PayloadSize size;
    Envelope envelope{Envelope::Payload};
    std::string template_text;                              // template: compiled by the encoder
    std::shared_ptr<const std::vector<std::string>> files;  // file: their bytes, in order
    bool operator==(const PayloadSpec&) const = default;
};

// The smallest size `format` can carry for the longest run and device ids of a run: the
// envelope's fields (or JSON's largest reading) must fit. Sizes below it are a usage error.
std::size_t smallest_payload(PayloadFormat format, std::size_t run_id_length,
                             std::size_t device_id_length, Envelope envelope = Envelope::Payload);

}  // namespace telemetry

#pragma once
// Readings into payloads of the chosen format and size (telemetry/payload_format.hpp), and any
// payload back into a reading. Pure logic: no I/O, no MQTT.
//
// Deterministic: a message's size, filler and random bytes follow from the seed, its run, its
// device and its sequence number only, so a redelivery, a repair and a resumed publisher's resend
// carry the same bytes (the ledger calls a same-key message with other content a contradiction).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "telemetry/payload.hpp"
#include "telemetry/payload_format.hpp"
#include "telemetry/payload_template.hpp"
#include "telemetry/property_envelope.hpp"

namespace telemetry {

class PayloadEncoder {
  public:
    // A template spec must compile (the options check it first): std::invalid_argument.
    explicit PayloadEncoder(PayloadSpec spec = {}, std::uint64_t seed = 1);

    // Encodes `r` into `out` (cleared first) and returns it as a view. A size below the
    // format's smallest for this reading (smallest_payload) gives the smallest instead. With
    // --envelope properties, `out` is the body and properties() the rest.
    std::string_view encode(const Reading& r, std::string& out);

    const PayloadSpec& spec() const { return spec_; }
    // The user properties of the last encode(); nullptr unless --envelope properties.
    const PropertyEnvelope* properties() const {
        return spec_.envelope == Envelope::Properties ? &properties_ : nullptr;
    }

  private:
    // The size of this reading's payload: the spec's, or drawn from its range; 0: natural.
    std::size_t size_of(const Reading& r) const;
    std::uint64_t stream_seed(const Reading& r) const;
    void encode_json(const Reading& r, std::size_t size, std::string& out) const;
    void encode_enveloped(const Reading& r, std::size_t size, std::string& out) const;
    void encode_bare(const Reading& r, std::size_t size, std::string& out);
    // Appends the body of `r` (of `size` bytes where the format has a size), and its kind.
    void append_body(const Reading& r, std::size_t size, std::string& out) const;
    // A protobuf, CBOR or MessagePack body of `size` bytes (or the nearest above it; 0: natural).
    void append_structured(const Reading& r, std::size_t size, std::string& out) const;
    BodyKind body_kind() const;

    PayloadSpec spec_;
    std::uint64_t seed_;
    PropertyEnvelope properties_;
    std::optional<PayloadTemplate> template_;
};

// A payload of any format: a JSON reading (starts with '{') or a binary envelope ("MT"); or,
// when the properties carry the envelope, a bare body.
DecodedReading decode_payload(std::string_view payload, std::span<const KeyValue> properties = {});

}  // namespace telemetry

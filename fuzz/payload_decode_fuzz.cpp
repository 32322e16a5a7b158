// libFuzzer target: the payload decoder (JSON readings and binary envelopes) must classify any
// bytes as a reading, malformed or corrupt, never crash. The same bytes are also read as each
// structured body (protobuf, CBOR, MessagePack), which the envelope's checksum would otherwise
// keep out of the fuzzer's reach, and as the envelope in user properties: the input's first
// seven lines are the values of mt-v ... mt-crc, the rest the body.
// A decoded JSON reading must encode and decode to itself: exactly for the ids, sequence number
// and timestamp, within the two decimals the encoder writes for values, and exactly from the
// second round on. An accepted envelope is canonical: writing its fields and body again gives
// the same bytes. An accepted structured body round-trips as a JSON reading does.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "telemetry/envelope.hpp"
#include "telemetry/payload.hpp"
#include "telemetry/payload_encoder.hpp"
#include "telemetry/property_envelope.hpp"
#include "telemetry/structured_body.hpp"

namespace {

bool near(double a, double b) {
    return std::fabs(a - b) <= 0.005 + 1e-9;
}

void check_json_round_trip(const telemetry::Reading& r0) {
    std::string out;
    const auto d1 = telemetry::decode_reading(telemetry::encode_reading(r0, out));
    if (!d1.reading) std::abort();
    const telemetry::Reading& r1 = *d1.reading;
    if (r1.run != r0.run || r1.device != r0.device || r1.seq != r0.seq || r1.ts_us != r0.ts_us ||
        !near(r1.temperature_c, r0.temperature_c) || !near(r1.humidity_pct, r0.humidity_pct) ||
        !near(r1.pressure_hpa, r0.pressure_hpa) || !near(r1.battery_pct, r0.battery_pct))
        std::abort();
    const auto d2 = telemetry::decode_reading(telemetry::encode_reading(r1, out));
    if (!d2.reading || !(*d2.reading == r1)) std::abort();
}

bool same_reading(const telemetry::Reading& a, const telemetry::Reading& b, bool exactly) {
    const auto equal = [exactly](double x, double y) { return exactly ? x == y : near(x, y); };
    return a.device == b.device && a.seq == b.seq && a.ts_us == b.ts_us &&
           equal(a.temperature_c, b.temperature_c) && equal(a.humidity_pct, b.humidity_pct) &&
           equal(a.pressure_hpa, b.pressure_hpa) && equal(a.battery_pct, b.battery_pct) &&
           a.fault == b.fault && a.battery_low == b.battery_low;
}

// Reads `in` as a body of `kind` that its envelope would agree with; a body accepted so must
// encode and decode to itself, within two decimals and then exactly.
void check_structured_round_trip(telemetry::BodyKind kind, std::string_view in) {
    telemetry::Reading said;
    if (kind == telemetry::BodyKind::Protobuf ? telemetry::decode_protobuf_body(in, said)
                                              : telemetry::decode_map_body(kind, in, said))
        return;
    telemetry::Reading r0 = said;
    if (telemetry::read_structured_body(kind, in, r0)) return;  // a value out of its range
    std::string out;
    telemetry::append_structured_body(kind, r0, {}, out);
    telemetry::Reading r1 = r0;
    if (telemetry::read_structured_body(kind, out, r1) || !same_reading(r0, r1, false))
        std::abort();
    std::string again;
    telemetry::append_structured_body(kind, r1, "pad", again);
    telemetry::Reading r2 = r1;
    if (telemetry::read_structured_body(kind, again, r2) || !same_reading(r1, r2, true))
        std::abort();
}

void check_envelope_round_trip(std::string_view in) {
    const auto kind = static_cast<telemetry::BodyKind>(in[3]);
    std::string out;
    const auto d = telemetry::decode_envelope(in);
    telemetry::open_envelope(*d.reading, kind, in.size(), out);
    out += telemetry::envelope_body(in);
    telemetry::seal_envelope(out);
    if (out != in) std::abort();
}

// The first seven lines of `in` as the property envelope's values, the rest as its body; an
// accepted message must write the same properties again.
void check_property_envelope(std::string_view in) {
    static constexpr std::string_view kKeys[] = {"mt-v",  "mt-run",  "mt-dev", "mt-seq",
                                                 "mt-ts", "mt-body", "mt-crc"};
    std::array<telemetry::KeyValue, 7> properties;
    for (std::size_t i = 0; i < properties.size(); ++i) {
        const std::size_t end = in.find('\n');
        if (end == std::string_view::npos) return;
        properties[i] = {kKeys[i], in.substr(0, end)};
        in.remove_prefix(end + 1);
    }
    const auto d = telemetry::decode_payload(in, properties);
    if (d.reading.has_value() == (d.problem != telemetry::DecodeProblem::None)) std::abort();
    if (!d.reading) return;
    telemetry::PropertyEnvelope again;
    const auto kind = telemetry::parse_body_kind(properties[5].value);
    if (!kind) std::abort();
    again.write(*d.reading, *kind, in);
    // Each property as it was, but the numbers, which may have had leading zeros.
    const auto written = again.pairs();
    for (const std::size_t i : {0, 1, 2, 5, 6})
        if (written[i].value != properties[i].value) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    for (const auto kind : {telemetry::BodyKind::Protobuf, telemetry::BodyKind::Cbor,
                            telemetry::BodyKind::MessagePack})
        check_structured_round_trip(kind, in);
    check_property_envelope(in);
    const telemetry::DecodedReading d = telemetry::decode_payload(in);
    if (d.reading.has_value() == (d.problem != telemetry::DecodeProblem::None)) std::abort();
    if (!d.reading) return 0;
    if (d.content == 0) std::abort();
    if (telemetry::is_envelope(in))
        check_envelope_round_trip(in);
    else
        check_json_round_trip(*d.reading);
    return 0;
}

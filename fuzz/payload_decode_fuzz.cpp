// libFuzzer target: the payload decoder (JSON readings and binary envelopes) must classify any
// bytes as a reading, malformed or corrupt, never crash.
// A decoded JSON reading must encode and decode to itself: exactly for the ids, sequence number
// and timestamp, within the two decimals the encoder writes for values, and exactly from the
// second round on. An accepted envelope is canonical: writing its fields and body again gives
// the same bytes.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "telemetry/envelope.hpp"
#include "telemetry/payload.hpp"
#include "telemetry/payload_encoder.hpp"

namespace {

void check_json_round_trip(const telemetry::Reading& r0) {
    std::string out;
    const auto d1 = telemetry::decode_reading(telemetry::encode_reading(r0, out));
    if (!d1.reading) std::abort();
    const telemetry::Reading& r1 = *d1.reading;
    const auto near = [](double a, double b) { return std::fabs(a - b) <= 0.005 + 1e-9; };
    if (r1.run != r0.run || r1.device != r0.device || r1.seq != r0.seq || r1.ts_us != r0.ts_us ||
        !near(r1.temperature_c, r0.temperature_c) || !near(r1.humidity_pct, r0.humidity_pct) ||
        !near(r1.pressure_hpa, r0.pressure_hpa) || !near(r1.battery_pct, r0.battery_pct))
        std::abort();
    const auto d2 = telemetry::decode_reading(telemetry::encode_reading(r1, out));
    if (!d2.reading || !(*d2.reading == r1)) std::abort();
}

void check_envelope_round_trip(std::string_view in, const telemetry::DecodedReading& d) {
    const auto kind =
        d.has_values ? telemetry::BodyKind::SensorReading : telemetry::BodyKind::Opaque;
    std::string out;
    telemetry::open_envelope(*d.reading, kind, in.size(), out);
    out += telemetry::envelope_body(in);
    telemetry::seal_envelope(out);
    if (out != in) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const telemetry::DecodedReading d = telemetry::decode_payload(in);
    if (d.reading.has_value() == (d.problem != telemetry::DecodeProblem::None)) std::abort();
    if (!d.reading) return 0;
    if (d.content == 0) std::abort();
    if (telemetry::is_envelope(in))
        check_envelope_round_trip(in, d);
    else
        check_json_round_trip(*d.reading);
    return 0;
}

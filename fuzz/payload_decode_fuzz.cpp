// libFuzzer target: the payload decoder must classify any bytes as a reading, malformed or
// corrupt, never crash; a decoded reading must encode and decode to itself: exactly for the
// ids, sequence number and timestamp, within the two decimals the encoder writes for values,
// and exactly from the second round on.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "telemetry/payload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const telemetry::DecodedReading d = telemetry::decode_reading(in);
    if (d.reading.has_value() == (d.problem != telemetry::DecodeProblem::None)) std::abort();
    if (!d.reading) return 0;
    const telemetry::Reading& r0 = *d.reading;
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
    return 0;
}

// libFuzzer target: the payload decoder must classify any bytes as a reading, malformed or
// corrupt, never crash; a decoded reading must encode and decode to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "telemetry/payload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const telemetry::DecodedReading d = telemetry::decode_reading(in);
    if (d.reading.has_value() == (d.problem != telemetry::DecodeProblem::None)) std::abort();
    if (d.reading) {
        std::string out;
        const auto again = telemetry::decode_reading(telemetry::encode_reading(*d.reading, out));
        if (!again.reading || again.reading->seq != d.reading->seq ||
            again.reading->device != d.reading->device)
            std::abort();
    }
    return 0;
}

#pragma once
// A valid schema-1 reading of run "run-1", encoded as a publisher sends it: the same values
// every time but for its device and sequence number.

#include <cstdint>
#include <string>

#include "telemetry/payload.hpp"

namespace testing_support {

inline std::string encoded_reading(std::uint64_t seq, const std::string& device = "dev-1") {
    telemetry::Reading r;
    r.run = "run-1";
    r.device = device;
    r.seq = seq;
    r.ts_us = 1'700'000'000'000'000;
    r.temperature_c = 21.5;
    r.humidity_pct = 40;
    r.pressure_hpa = 1000;
    r.battery_pct = 90;
    std::string out;
    telemetry::encode_reading(r, out);
    return out;
}

}  // namespace testing_support

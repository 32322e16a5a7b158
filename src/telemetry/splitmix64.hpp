#pragma once
// SplitMix64 (Steele, Lea and Flood, 2014) as a standard random bit generator: 8 bytes of state
// and good statistical quality. A fleet holds one generator per device (std::mt19937_64's 2.5 KB
// each were most of a 10,000-device publisher's memory), and every deterministic payload byte
// (sizes, padding, random bodies, template fields) comes from one seeded per message.

#include <cstdint>

namespace telemetry {

class SplitMix64 {
  public:
    using result_type = std::uint64_t;
    explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return UINT64_MAX; }
    result_type operator()() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }

    // Uniform in [0, 1): the top 53 bits of the next value.
    double uniform() { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

  private:
    std::uint64_t state_;
};

}  // namespace telemetry

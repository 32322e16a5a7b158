#pragma once
// End-to-end latency per device, small enough for a fleet: 48 half-octave buckets from 16 µs to
// ~4.5 minutes (a p99 within +-19%) of 16-bit counts (halved together when one would overflow,
// which keeps the shape) and the exact maximum: ~100 bytes a device, so 100,000 devices take
// ~18 MB with their map nodes. Enough to name the slowest devices; the run's own histogram
// (latency_histogram.hpp) stays the precise one.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace telemetry {

class DeviceLatencies {
  public:
    void record(std::string_view device, std::int64_t latency_us);

    struct Device {
        std::string device;
        std::int64_t p99_us;
        std::int64_t max_us;
        std::uint64_t messages;
        std::int64_t p50_us{0};  // combined() only
    };
    // The `n` devices with the highest p99 (then the highest maximum), slowest first.
    std::vector<Device> slowest(std::size_t n) const;
    // These devices together (a publisher shard's, say), named `name`: each device's buckets
    // weighted by its messages, since halving scales a busy device's counts down. Devices not
    // seen count nothing.
    Device combined(std::string name, const std::vector<std::string>& devices) const;
    std::size_t devices() const { return by_device_.size(); }

    static constexpr std::size_t kBuckets = 48;
    static std::size_t bucket_of(std::int64_t latency_us);
    static std::int64_t lowest_in(std::size_t bucket);

  private:
    struct Sketch {
        std::array<std::uint16_t, kBuckets> counts{};
        std::uint32_t max_us{0};
        std::uint32_t messages{0};
        std::int64_t percentile(double q) const;
    };
    // Looked up by string_view without making a std::string (C++20 heterogeneous lookup).
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::unordered_map<std::string, Sketch, Hash, std::equal_to<>> by_device_;
    // Messages come in runs from one device often enough to skip the lookup (references into
    // an unordered_map survive a rehash).
    std::string last_device_;
    Sketch* last_{nullptr};
};

}  // namespace telemetry

#pragma once
// A log-linear latency histogram in the manner of HdrHistogram: 256 linear sub-buckets per
// power of two, so any recorded value is reported within 0.4% (bucket midpoint; at most 1/256
// of the value away), in bounded memory (~36 KB up to 2^40 µs), and two histograms merge by
// adding their counts.

#include <array>
#include <cstdint>
#include <limits>
#include <vector>

#include <nlohmann/json.hpp>

namespace telemetry {

class LatencyHistogram {
  public:
    static constexpr int kSubBits = 8;
    static constexpr std::int64_t kMaxValue = (std::int64_t{1} << 40) - 1;  // ~12.7 days in µs

    // Records one value (microseconds). Negative values (clock skew between hosts) count as 0
    // and are tallied in negative(); values above kMaxValue are clamped.
    void record(std::int64_t value_us);
    void merge(const LatencyHistogram& other);
    void reset();

    // Everything it holds, to save and restore (a crash-safe subscriber's state).
    nlohmann::json state() const;
    static LatencyHistogram from_state(const nlohmann::json& state);

    std::uint64_t count() const { return count_; }
    std::uint64_t negative() const { return negative_; }
    std::int64_t most_negative() const { return most_negative_; }  // 0 when none
    std::int64_t min() const { return count_ ? min_ : 0; }
    std::int64_t max() const { return count_ ? max_ : 0; }
    std::int64_t sum() const { return sum_; }  // of the recorded (clamped) values
    double mean() const {
        return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0;
    }
    // The value at quantile q in [0, 1] (0.99 = p99): the midpoint of the bucket holding it,
    // clamped to the exact min and max.
    std::int64_t percentile(double q) const;

    struct Bucket {
        std::int64_t from;  // inclusive, µs
        std::int64_t to;    // inclusive, µs
        std::uint64_t count;
    };
    // Non-empty buckets, lowest first.
    std::vector<Bucket> buckets() const;

    static std::size_t index_of(std::int64_t value);
    static std::int64_t lowest_in(std::size_t index);
    static std::int64_t highest_in(std::size_t index);

  private:
    static constexpr std::size_t kBuckets =
        (40 - kSubBits + 1) * (std::size_t{1} << (kSubBits - 1)) +
        (std::size_t{1} << (kSubBits - 1));
    std::array<std::uint64_t, kBuckets> counts_{};
    std::uint64_t count_{0};
    std::uint64_t negative_{0};
    std::int64_t most_negative_{0};
    std::int64_t min_{std::numeric_limits<std::int64_t>::max()};
    std::int64_t max_{0};
    std::int64_t sum_{0};
};

}  // namespace telemetry

#include "telemetry/device_latency.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace telemetry {
namespace {
constexpr int kLowestPower = 4;  // bucket 0 holds everything below 2^4 µs
}

std::size_t DeviceLatencies::bucket_of(std::int64_t latency_us) {
    if (latency_us < (std::int64_t{1} << kLowestPower)) return 0;
    const auto v = static_cast<std::uint64_t>(latency_us);
    const int power = static_cast<int>(std::bit_width(v)) - 1;
    const auto half = static_cast<int>((v >> (power - 1)) & 1U);  // upper half of the octave
    const auto index =
        static_cast<std::size_t>(2 * (power - kLowestPower)) + static_cast<std::size_t>(half);
    return std::min(index, kBuckets - 1);
}

std::int64_t DeviceLatencies::lowest_in(std::size_t bucket) {
    if (bucket == 0) return 0;
    const int power = static_cast<int>(bucket / 2) + kLowestPower;
    return (std::int64_t{1} << power) + (bucket % 2 == 1 ? std::int64_t{1} << (power - 1) : 0);
}

void DeviceLatencies::record(std::string_view device, std::int64_t latency_us) {
    if (last_ == nullptr || device != last_device_) {
        auto it = by_device_.find(device);
        if (it == by_device_.end()) it = by_device_.emplace(std::string(device), Sketch{}).first;
        last_ = &it->second;
        last_device_.assign(device);
    }
    const std::int64_t us = std::max<std::int64_t>(latency_us, 0);
    std::uint16_t& count = last_->counts[bucket_of(us)];
    if (count == UINT16_MAX)
        for (std::uint16_t& c : last_->counts) c = static_cast<std::uint16_t>((c + 1) / 2);
    ++count;
    ++last_->messages;
    last_->max_us =
        std::max(last_->max_us, static_cast<std::uint32_t>(std::min<std::int64_t>(us, UINT32_MAX)));
}

namespace {

// The q-quantile of bucket counts: the bucket's geometric middle, never above the exact maximum.
template <class Count>
std::int64_t percentile_of(const std::array<Count, DeviceLatencies::kBuckets>& counts, double q,
                           std::int64_t max_us) {
    double total = 0;
    for (const Count c : counts) total += static_cast<double>(c);
    const double rank = std::max(std::ceil(q * total), 1.0);
    double seen = 0;
    for (std::size_t b = 0; b < DeviceLatencies::kBuckets; ++b) {
        seen += static_cast<double>(counts[b]);
        if (seen < rank) continue;
        const std::int64_t lo = DeviceLatencies::lowest_in(b);
        const std::int64_t hi = DeviceLatencies::lowest_in(b + 1);
        const auto mid = static_cast<std::int64_t>(std::sqrt(
            static_cast<double>(std::max<std::int64_t>(lo, 1)) * static_cast<double>(hi)));
        return std::min<std::int64_t>(mid, max_us);
    }
    return max_us;
}

}  // namespace

std::int64_t DeviceLatencies::Sketch::percentile(double q) const {
    return percentile_of(counts, q, max_us);
}

DeviceLatencies::Device DeviceLatencies::combined(std::string name,
                                                  const std::vector<std::string>& devices) const {
    std::array<double, kBuckets> counts{};
    Device all{std::move(name), 0, 0, 0};
    for (const std::string& device : devices) {
        const auto it = by_device_.find(device);
        if (it == by_device_.end()) continue;
        const Sketch& s = it->second;
        std::uint64_t kept = 0;
        for (const std::uint16_t c : s.counts) kept += c;
        if (kept == 0) continue;
        const double weight = static_cast<double>(s.messages) / static_cast<double>(kept);
        for (std::size_t b = 0; b < kBuckets; ++b) counts[b] += weight * s.counts[b];
        all.max_us = std::max<std::int64_t>(all.max_us, s.max_us);
        all.messages += s.messages;
    }
    all.p99_us = percentile_of(counts, 0.99, all.max_us);
    all.p50_us = percentile_of(counts, 0.5, all.max_us);
    return all;
}

std::vector<DeviceLatencies::Device> DeviceLatencies::slowest(std::size_t n) const {
    std::vector<Device> all;
    all.reserve(by_device_.size());
    for (const auto& [device, sketch] : by_device_)
        all.push_back({device, sketch.percentile(0.99), sketch.max_us, sketch.messages});
    const auto slower = [](const Device& a, const Device& b) {
        if (a.p99_us != b.p99_us) return a.p99_us > b.p99_us;
        if (a.max_us != b.max_us) return a.max_us > b.max_us;
        return a.device < b.device;
    };
    const std::size_t keep = std::min(n, all.size());
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(keep), all.end(),
                      slower);
    all.resize(keep);
    return all;
}

}  // namespace telemetry

#include "telemetry/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

namespace telemetry {

namespace {
constexpr std::int64_t kLinear = std::int64_t{1} << LatencyHistogram::kSubBits;  // 256
constexpr std::int64_t kHalf = kLinear / 2;                                      // 128
}  // namespace

std::size_t LatencyHistogram::index_of(std::int64_t v) {
    if (v < kLinear) return static_cast<std::size_t>(v);
    // Above 256: `shift` doublings, each split into 128 buckets of width 2^shift.
    const int shift = static_cast<int>(std::bit_width(static_cast<std::uint64_t>(v))) - kSubBits;
    return static_cast<std::size_t>(shift * kHalf + (v >> shift));
}

std::int64_t LatencyHistogram::lowest_in(std::size_t index) {
    const auto i = static_cast<std::int64_t>(index);
    if (i < kLinear) return i;
    const std::int64_t shift = (i - kHalf) / kHalf;
    const std::int64_t sub = i - shift * kHalf;  // in [128, 256)
    return sub << shift;
}

std::int64_t LatencyHistogram::highest_in(std::size_t index) {
    const auto i = static_cast<std::int64_t>(index);
    if (i < kLinear) return i;
    const std::int64_t shift = (i - kHalf) / kHalf;
    return lowest_in(index) + (std::int64_t{1} << shift) - 1;
}

void LatencyHistogram::record(std::int64_t v) {
    if (v < 0) {
        ++negative_;
        most_negative_ = std::min(most_negative_, v);
        v = 0;
    }
    v = std::min(v, kMaxValue);
    ++counts_[index_of(v)];
    ++count_;
    sum_ += v;
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
}

void LatencyHistogram::merge(const LatencyHistogram& o) {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    count_ += o.count_;
    negative_ += o.negative_;
    most_negative_ = std::min(most_negative_, o.most_negative_);
    sum_ += o.sum_;
    if (o.count_) {
        min_ = std::min(min_, o.min_);
        max_ = std::max(max_, o.max_);
    }
}

nlohmann::json LatencyHistogram::state() const {
    nlohmann::json counts = nlohmann::json::array();  // [index, count] of non-empty buckets
    for (std::size_t i = 0; i < kBuckets; ++i)
        if (counts_[i] != 0) counts.push_back({i, counts_[i]});
    return {{"counts", counts},
            {"count", count_},
            {"negative", negative_},
            {"most_negative", most_negative_},
            {"min", min_},
            {"max", max_},
            {"sum", sum_}};
}

LatencyHistogram LatencyHistogram::from_state(const nlohmann::json& state) {
    LatencyHistogram h;
    for (const auto& pair : state.at("counts")) {
        const auto index = pair.at(0).get<std::size_t>();
        if (index >= kBuckets) throw std::out_of_range("latency bucket index out of range");
        h.counts_[index] = pair.at(1).get<std::uint64_t>();
    }
    h.count_ = state.at("count").get<std::uint64_t>();
    h.negative_ = state.at("negative").get<std::uint64_t>();
    h.most_negative_ = state.value("most_negative", std::int64_t{0});  // older states lack it
    h.min_ = state.at("min").get<std::int64_t>();
    h.max_ = state.at("max").get<std::int64_t>();
    h.sum_ = state.at("sum").get<std::int64_t>();
    return h;
}

void LatencyHistogram::reset() {
    *this = LatencyHistogram{};
}

std::int64_t LatencyHistogram::percentile(double q) const {
    if (count_ == 0) return 0;
    const double clamped = std::clamp(q, 0.0, 1.0);
    // The rank of the value at quantile q (1-based), as HdrHistogram counts it.
    const auto rank = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::ceil(clamped * static_cast<double>(count_))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            const std::int64_t mid = lowest_in(i) + (highest_in(i) - lowest_in(i)) / 2;
            return std::clamp(mid, min_, max_);
        }
    }
    return max_;
}

std::vector<LatencyHistogram::Bucket> LatencyHistogram::buckets() const {
    std::vector<Bucket> out;
    for (std::size_t i = 0; i < kBuckets; ++i)
        if (counts_[i] != 0) out.push_back({lowest_in(i), highest_in(i), counts_[i]});
    return out;
}

}  // namespace telemetry

#include "telemetry/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace telemetry {
namespace {

TEST(LatencyHistogram, BucketsTileTheRangeWithoutGapsOrOverlap) {
    for (std::size_t i = 0; i + 1 < LatencyHistogram::index_of(LatencyHistogram::kMaxValue); ++i)
        ASSERT_EQ(LatencyHistogram::highest_in(i) + 1, LatencyHistogram::lowest_in(i + 1)) << i;
    for (std::int64_t v : std::initializer_list<std::int64_t>{0, 1, 255, 256, 257, 1000, 123456789,
                                                              LatencyHistogram::kMaxValue}) {
        const std::size_t i = LatencyHistogram::index_of(v);
        EXPECT_LE(LatencyHistogram::lowest_in(i), v);
        EXPECT_GE(LatencyHistogram::highest_in(i), v);
    }
}

TEST(LatencyHistogram, PercentilesAreWithinOnePercentOfTheExactValue) {
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> dist(7.0, 1.5);  // ~1 ms median, long tail
    std::vector<std::int64_t> values;
    LatencyHistogram h;
    for (int i = 0; i < 100'000; ++i) {
        const auto v = static_cast<std::int64_t>(dist(rng));
        values.push_back(v);
        h.record(v);
    }
    std::sort(values.begin(), values.end());
    for (double q : {0.5, 0.9, 0.99, 0.999, 0.9999}) {
        const auto rank =
            static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size()))) - 1;
        const double exact = static_cast<double>(values[rank]);
        const double got = static_cast<double>(h.percentile(q));
        EXPECT_LE(std::abs(got - exact), std::max(1.0, exact * 0.01)) << "q=" << q;
    }
    EXPECT_EQ(h.min(), values.front());
    EXPECT_EQ(h.max(), values.back());
    EXPECT_EQ(h.count(), values.size());
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
    LatencyHistogram a, b, all;
    for (std::int64_t v = 1; v < 5000; v += 3) {
        (v % 2 ? a : b).record(v * 7);
        all.record(v * 7);
    }
    a.merge(b);
    EXPECT_EQ(a.count(), all.count());
    for (double q : {0.1, 0.5, 0.99}) EXPECT_EQ(a.percentile(q), all.percentile(q));
    EXPECT_EQ(a.min(), all.min());
    EXPECT_EQ(a.max(), all.max());
}

TEST(LatencyHistogram, NegativeValuesFromClockSkewAreCountedAsZero) {
    LatencyHistogram h;
    h.record(-50);
    h.record(100);
    EXPECT_EQ(h.negative(), 1u);
    EXPECT_EQ(h.min(), 0);
    EXPECT_EQ(h.count(), 2u);
}

TEST(LatencyHistogram, EmptyHistogramReportsZeros) {
    const LatencyHistogram h;
    EXPECT_EQ(h.percentile(0.99), 0);
    EXPECT_EQ(h.max(), 0);
    EXPECT_TRUE(h.buckets().empty());
}

TEST(LatencyHistogram, BucketsListWhatWasRecorded) {
    LatencyHistogram h;
    h.record(10);
    h.record(10);
    h.record(100000);
    const auto b = h.buckets();
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b[0].from, 10);
    EXPECT_EQ(b[0].count, 2u);
    EXPECT_LE(b[1].from, 100000);
    EXPECT_GE(b[1].to, 100000);
}

}  // namespace
}  // namespace telemetry

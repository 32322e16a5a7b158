// Latency per device in bounded memory, to name the slowest devices.
#include "telemetry/device_latency.hpp"

#include <gtest/gtest.h>

namespace telemetry {
namespace {

TEST(DeviceLatencies, BucketsAreHalfOctavesFromSixteenMicroseconds) {
    EXPECT_EQ(DeviceLatencies::bucket_of(-5), 0U);
    EXPECT_EQ(DeviceLatencies::bucket_of(15), 0U);
    EXPECT_EQ(DeviceLatencies::bucket_of(16), 0U);
    EXPECT_EQ(DeviceLatencies::bucket_of(24), 1U);
    EXPECT_EQ(DeviceLatencies::bucket_of(32), 2U);
    EXPECT_EQ(DeviceLatencies::bucket_of(std::int64_t{1} << 40), DeviceLatencies::kBuckets - 1);
    for (std::size_t b = 1; b + 1 < DeviceLatencies::kBuckets; ++b) {
        EXPECT_EQ(DeviceLatencies::bucket_of(DeviceLatencies::lowest_in(b)), b);
        EXPECT_EQ(DeviceLatencies::bucket_of(DeviceLatencies::lowest_in(b + 1) - 1), b);
    }
}

TEST(DeviceLatencies, TheSlowestDevicesComeFirstByTheirP99WithinAFifth) {
    DeviceLatencies l;
    for (int i = 0; i < 1000; ++i) {
        l.record("fast", 2'000);
        l.record("slow", i < 980 ? 2'000 : 400'000);  // 2% of its messages took 400 ms
        l.record("steady", 50'000);
    }
    const auto slowest = l.slowest(2);
    ASSERT_EQ(slowest.size(), 2U);
    EXPECT_EQ(slowest[0].device, "slow");
    EXPECT_NEAR(static_cast<double>(slowest[0].p99_us), 400'000.0, 400'000.0 * 0.2);
    EXPECT_EQ(slowest[0].max_us, 400'000);
    EXPECT_EQ(slowest[0].messages, 1000U);
    EXPECT_EQ(slowest[1].device, "steady");
    EXPECT_NEAR(static_cast<double>(slowest[1].p99_us), 50'000.0, 50'000.0 * 0.2);
    EXPECT_EQ(l.devices(), 3U);
}

TEST(DeviceLatencies, ALongRunKeepsItsShapeWhenTheCountsAreHalved) {
    DeviceLatencies l;
    // 2% slow, far more messages than a 16-bit count holds.
    for (int i = 0; i < 200'000; ++i) l.record("d", i % 50 == 0 ? 500'000 : 1'000);
    l.record("e", 1'000);
    const auto d = l.slowest(1)[0];
    EXPECT_EQ(d.device, "d");
    EXPECT_EQ(d.messages, 200'000U);
    EXPECT_NEAR(static_cast<double>(d.p99_us), 500'000.0, 500'000.0 * 0.2);
}

TEST(DeviceLatencies, AP99IsWithinItsBucketAndNeverAboveTheDevicesMaximum) {
    DeviceLatencies l;
    l.record("d", 1'000);  // in [768, 1024)
    EXPECT_GE(l.slowest(1)[0].p99_us, 768);
    EXPECT_LE(l.slowest(1)[0].p99_us, 1'000);
    l.record("e", 800);
    EXPECT_EQ(l.slowest(2)[1].p99_us, 800) << "the bucket's middle is above its maximum";
}

TEST(DeviceLatencies, AGroupOfDevicesWeighsEachByItsMessagesNotItsHalvedCounts) {
    DeviceLatencies l;
    // "busy" sends 140,000 fast readings (its 16-bit counts halved: it keeps far fewer than it
    // sent), "slow" 2,000 slow ones: 1.4% of the pair's messages are slow, so its p99 is slow.
    for (int i = 0; i < 140'000; ++i) l.record("busy", 1'000);
    for (int i = 0; i < 2'000; ++i) l.record("slow", 1'000'000);
    const auto pair = l.combined("shard 1/2", {"busy", "slow", "never-seen"});
    EXPECT_EQ(pair.device, "shard 1/2");
    EXPECT_EQ(pair.messages, 142'000U);
    EXPECT_EQ(pair.max_us, 1'000'000);
    EXPECT_NEAR(static_cast<double>(pair.p99_us), 1'000'000.0, 1'000'000.0 * 0.2);
    // With the slow device at 0.7% of the messages, the p99 is the busy device's; counting the
    // kept counts instead would make it several percent and the p99 slow.
    for (int i = 0; i < 140'000; ++i) l.record("busy", 1'000);
    const auto diluted = l.combined("shard 1/2", {"busy", "slow"});
    EXPECT_EQ(diluted.messages, 282'000U);
    EXPECT_LE(diluted.p99_us, 1'024) << "weighted by messages, 2,000 of 282,000 is under 1%";
    EXPECT_EQ(l.combined("none", {}).messages, 0U);
}

TEST(DeviceLatencies, AGroupsMedianIsItsTypicalDevicesNotItsSlowest) {
    DeviceLatencies l;
    for (int i = 0; i < 900; ++i) l.record("fast", 2'000);
    for (int i = 0; i < 100; ++i) l.record("slow", 500'000);
    const auto both = l.combined("ws", {"fast", "slow"});
    EXPECT_NEAR(static_cast<double>(both.p50_us), 2'000.0, 2'000.0 * 0.2);
    EXPECT_NEAR(static_cast<double>(both.p99_us), 500'000.0, 500'000.0 * 0.2);
}

}  // namespace
}  // namespace telemetry

// The read-batching policy (net/read_batching.hpp): when a loop may pause before its next
// read, and the queue gauge that tells a publisher whether its confirmations clock its sends.

#include "net/read_batching.hpp"

#include <gtest/gtest.h>

namespace net {
namespace {

using namespace std::chrono_literals;
constexpr std::size_t kLight = 16 * 1024;

ReadBatching streaming_light() {
    ReadBatching b(kLight, 500us);
    b.round_ended(400, 10us);  // 400 bytes that were already waiting
    return b;
}

TEST(ReadBatching, PausesAfterALightRoundOfAStreamWhenNoPeerWaits) {
    EXPECT_EQ(streaming_light().pause_before(10ms, false), 500us);
}

TEST(ReadBatching, NeverPausesWhileAPeerWaitsForUs) {
    EXPECT_EQ(streaming_light().pause_before(10ms, true), 0us)
        << "a publisher whose PUBACKs free its window, or a broker waiting for ours";
}

TEST(ReadBatching, NeverPausesBeforeAZeroWaitAndNotLongerThanTheWait) {
    EXPECT_EQ(streaming_light().pause_before(0us, false), 0us);
    EXPECT_EQ(streaming_light().pause_before(200us, false), 200us);
}

TEST(ReadBatching, DoesNotPauseAtLowRatesWhereTheLoopWaitedForTheData) {
    ReadBatching b(kLight, 500us);
    b.round_ended(150, 1ms);  // one message a millisecond: a pause would only add latency
    EXPECT_EQ(b.pause_before(10ms, false), 0us);
}

TEST(ReadBatching, DoesNotPauseAfterAHeavyOrAnEmptyRound) {
    ReadBatching heavy(kLight, 500us);
    heavy.round_ended(kLight, 0us);
    EXPECT_EQ(heavy.pause_before(10ms, false), 0us) << "behind: read on at once";
    ReadBatching empty = streaming_light();
    empty.round_ended(0, 10ms);
    EXPECT_EQ(empty.pause_before(10ms, false), 0us);
}

TEST(ReadBatching, OnePausePerLightRound) {
    ReadBatching b = streaming_light();
    EXPECT_EQ(b.pause_before(10ms, false), 500us);
    b.paused();
    EXPECT_EQ(b.pause_before(10ms, false), 0us);
}

TEST(ReadBatching, ByDefaultNeverPauses) {
    ReadBatching b;
    b.round_ended(10, 0us);
    EXPECT_EQ(b.pause_before(10ms, false), 0us);
}

TEST(QueueGauge, SeesNoQueueWhileRoundTripsStayAtTheirMinimum) {
    QueueGauge g;
    for (int i = 0; i < 100; ++i) g.observe(i % 2 ? 100us : 120us);
    EXPECT_LT(g.queue_delay(), 50us);
}

TEST(QueueGauge, SeesAStandingQueueAboveTheMinimum) {
    QueueGauge g;
    g.observe(100us);
    for (int i = 0; i < 200; ++i) g.observe(2100us);
    EXPECT_GT(g.queue_delay(), 1900us);
}

TEST(QueueGauge, APathThatBecameSlowerIsTheNewBaseWithinTwoPeriods) {
    QueueGauge g;
    g.observe(100us);
    for (int i = 0; i < 3 * 4096; ++i) g.observe(5ms);
    EXPECT_LT(g.queue_delay(), 100us) << "5 ms is the path now, not a queue";
}

}  // namespace
}  // namespace net

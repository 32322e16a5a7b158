#include "app/in_flight_tracker.hpp"

#include <gtest/gtest.h>

namespace app {
namespace {

using Kind = InFlightTracker::Kind;

TEST(InFlightTracker, AConfirmedReadingNamesItsDeviceAndNumberOnce) {
    InFlightTracker tracker;
    tracker.reading(7, 3, 41);
    const auto entry = tracker.confirm(7);
    ASSERT_TRUE(entry);
    EXPECT_EQ(entry->kind, Kind::Reading);
    EXPECT_EQ(entry->device, 3u);
    EXPECT_EQ(entry->number, 41u);
    EXPECT_FALSE(tracker.confirm(7)) << "a repeated acknowledgement is not a second reading";
}

TEST(InFlightTracker, ControlSummaryAndRepairIdsAreToldApartFromReadings) {
    InFlightTracker tracker;
    tracker.control(1);
    tracker.summary(2);
    tracker.repair(3);
    EXPECT_EQ(tracker.confirm(1)->kind, Kind::Control);
    EXPECT_EQ(tracker.confirm(2)->kind, Kind::Summary);
    EXPECT_EQ(tracker.confirm(3)->kind, Kind::Repair);
}

TEST(InFlightTracker, AnIdNeverGivenIsNotInFlight) {
    InFlightTracker tracker;
    EXPECT_FALSE(tracker.in_flight(5));
    EXPECT_FALSE(tracker.confirm(5));
    EXPECT_FALSE(tracker.confirm(0x30005));
}

// A fleet's ids are above 65,535 (mqtt/multi_client.hpp): two connections' packet id 5 are two
// messages, whatever the ids look like.
TEST(InFlightTracker, IdsBeyondAPacketIdAreTrackedApartFromTheirLowBits) {
    InFlightTracker tracker;
    tracker.reading(5, 1, 0);
    tracker.reading(0x10005, 2, 0);
    tracker.reading(0xFFFF0005u, 9, 0);
    EXPECT_EQ(tracker.confirm(0x10005)->device, 2u);
    EXPECT_TRUE(tracker.in_flight(5));
    EXPECT_EQ(tracker.confirm(0xFFFF0005u)->device, 9u);
    EXPECT_EQ(tracker.confirm(5)->device, 1u);
    EXPECT_FALSE(tracker.in_flight(0x10005));
}

TEST(InFlightTracker, AResumableTrackerKnowsTheFirstUnconfirmedReading) {
    InFlightTracker tracker(/*resumable=*/true);
    tracker.reading(1, 0, 10);
    tracker.reading(2, 1, 11);
    tracker.reading(3, 2, 12);
    EXPECT_EQ(tracker.confirmed_through(13), 10u);
    tracker.confirm(2);
    EXPECT_EQ(tracker.confirmed_through(13), 10u) << "10 is still in flight";
    tracker.confirm(1);
    EXPECT_EQ(tracker.confirmed_through(13), 12u);
    tracker.confirm(3);
    EXPECT_EQ(tracker.confirmed_through(13), 13u) << "everything sent is confirmed";
}

TEST(InFlightTracker, AControlMessageDoesNotHoldBackTheResumePoint) {
    InFlightTracker tracker(/*resumable=*/true);
    tracker.summary(1);
    tracker.reading(2, 0, 4);
    tracker.confirm(2);
    EXPECT_EQ(tracker.confirmed_through(5), 5u);
}

TEST(InFlightTracker, IdsOfEveryRangeAreKeptApart) {
    InFlightTracker tracker;
    // A packet id, a QoS 0 id above the packet ids, and a fleet's (connection << 32 | id).
    const std::vector<mqtt::PublishId> ids{5, 0x1'0005, (mqtt::PublishId{3} << 32) | 5};
    for (std::size_t i = 0; i < ids.size(); ++i) tracker.reading(ids[i], 0, i);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const auto entry = tracker.confirm(ids[i]);
        ASSERT_TRUE(entry);
        EXPECT_EQ(entry->number, i);
    }
    for (const mqtt::PublishId id : ids) EXPECT_FALSE(tracker.in_flight(id));
}

}  // namespace
}  // namespace app

// FleetSchedule: when each device of a fleet takes its readings; pure, so times are given.
#include "sim/fleet_schedule.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace sim {
namespace {

using namespace std::chrono_literals;
using Clock = FleetSchedule::Clock;

const Clock::time_point kT0{};

FleetSchedule::Config config(std::uint64_t devices, std::uint64_t count,
                             std::chrono::nanoseconds interval, double jitter = 0.0) {
    return {devices, count, interval, jitter, 42};
}

// Pops and finishes every reading, in schedule order.
std::vector<FleetSchedule::Due> drain(FleetSchedule& s) {
    std::vector<FleetSchedule::Due> all;
    while (s.next()) {
        all.push_back(s.pop());
        s.done(all.back());
    }
    return all;
}

TEST(FleetSchedule, TheCountIsExactAndSpreadOverTheDevicesAsEvenlyAsTheyDivide) {
    FleetSchedule s(config(3, 10, 1s), kT0);
    std::map<std::uint32_t, std::uint64_t> per_device;
    for (const auto& d : drain(s)) {
        EXPECT_EQ(d.reading, per_device[d.device]++) << "a device's readings come in order";
    }
    EXPECT_EQ(per_device, (std::map<std::uint32_t, std::uint64_t>{{0, 4}, {1, 3}, {2, 3}}));
}

TEST(FleetSchedule, UnpacedEverythingIsDueAtOnceWithTheDevicesInTurn) {
    FleetSchedule s(config(3, 7, 0s), kT0);
    std::vector<std::uint32_t> order;
    for (const auto& d : drain(s)) {
        EXPECT_EQ(d.at, kT0);
        order.push_back(d.device);
    }
    EXPECT_EQ(order, (std::vector<std::uint32_t>{0, 1, 2, 0, 1, 2, 0}));
}

TEST(FleetSchedule, EachDeviceReadsEveryIntervalWithinTheJitter) {
    FleetSchedule s(config(1, 200, 1s, 0.1), kT0);
    const auto all = drain(s);
    ASSERT_EQ(all.size(), 200U);
    EXPECT_LT(all[0].at, kT0 + 1s);
    std::set<Clock::duration> gaps;
    for (std::size_t i = 1; i < all.size(); ++i) {
        const auto gap = all[i].at - all[i - 1].at;
        EXPECT_GE(gap, 900ms);
        EXPECT_LE(gap, 1100ms);
        gaps.insert(gap);
    }
    EXPECT_GT(gaps.size(), 100U) << "the intervals vary";
}

TEST(FleetSchedule, TheFirstReadingsAreSpreadOverTheFirstIntervalNotABurst) {
    FleetSchedule s(config(1000, 1000, 1s), kT0);
    int first_half = 0;
    for (const auto& d : drain(s)) {
        ASSERT_LT(d.at, kT0 + 1s);
        first_half += d.at < kT0 + 500ms ? 1 : 0;
    }
    EXPECT_GT(first_half, 400);
    EXPECT_LT(first_half, 600);
}

TEST(FleetSchedule, ADeviceTakesItsNextReadingOnlyAfterItIsDoneWithTheLast) {
    FleetSchedule s(config(2, 6, 0s), kT0);
    const auto held = s.pop();  // its connection is down, say
    std::vector<std::uint32_t> others;
    while (s.next()) {
        others.push_back(s.pop().device);
        s.done({kT0, others.size() - 1, others.back()});
    }
    EXPECT_EQ(others, (std::vector<std::uint32_t>{1, 1, 1}));
    s.done(held);
    ASSERT_TRUE(s.next());
    EXPECT_EQ(s.next()->device, held.device);
    EXPECT_EQ(s.next()->reading, 1U);
}

TEST(FleetSchedule, ALateReadingDoesNotPushTheLaterOnesBack) {
    FleetSchedule s(config(1, 3, 1s), kT0);
    const auto first = s.pop();
    s.done(first);  // however late that was
    EXPECT_EQ(s.next()->at, first.at + 1s);
}

TEST(FleetSchedule, TheSameSeedGivesTheSameSchedule) {
    FleetSchedule a(config(50, 500, 1s, 0.2), kT0), b(config(50, 500, 1s, 0.2), kT0);
    const auto x = drain(a), y = drain(b);
    ASSERT_EQ(x.size(), y.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        ASSERT_EQ(x[i].at, y[i].at);
        ASSERT_EQ(x[i].device, y[i].device);
    }
}

}  // namespace
}  // namespace sim

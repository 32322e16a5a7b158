#include "sim/rate_pacer.hpp"

#include <gtest/gtest.h>

namespace sim {
namespace {

using namespace std::chrono_literals;

TEST(RatePacer, UnpacedMakesEverythingDue) {
    const auto t0 = RatePacer::Clock::now();
    RatePacer p(0, t0);
    EXPECT_FALSE(p.paced());
    EXPECT_GT(p.due_by(t0), 1'000'000'000u);
}

TEST(RatePacer, FollowsAnAbsoluteSchedule) {
    const auto t0 = RatePacer::Clock::time_point{} + 10s;
    RatePacer p(1000, t0);
    EXPECT_EQ(p.due_by(t0 - 1ms), 0u);
    EXPECT_EQ(p.due_by(t0), 1u);
    EXPECT_EQ(p.due_by(t0 + 1s), 1001u);
    EXPECT_EQ(p.due_time(500), t0 + 500ms);
}

TEST(RatePacer, CatchesUpAfterAStallInsteadOfLoweringTheRate) {
    const auto t0 = RatePacer::Clock::time_point{} + 10s;
    RatePacer p(100, t0);
    // Nothing was sent for 2 s: everything scheduled in that time is due at once.
    EXPECT_EQ(p.due_by(t0 + 2s), 201u);
}

}  // namespace
}  // namespace sim

// ChurnPlan: which devices of a fleet drop off, and when; pure, so times are given.
#include "sim/churn_plan.hpp"

#include <gtest/gtest.h>

#include <set>

namespace sim {
namespace {

using namespace std::chrono_literals;

TEST(ChurnPlan, AShareOfDistinctDevicesEachDropOnceWithinTheWindow) {
    const ChurnPlan::Clock::time_point t0{};
    ChurnPlan plan(100, 0.3, t0 + 1s, t0 + 6s, 7);
    EXPECT_EQ(plan.planned(), 30U);
    EXPECT_TRUE(plan.due(t0 + 999ms).empty());
    const auto first = plan.due(t0 + 3s);
    const auto rest = plan.due(t0 + 6s);
    EXPECT_FALSE(first.empty());
    EXPECT_FALSE(rest.empty());
    std::set<std::uint32_t> devices(first.begin(), first.end());
    devices.insert(rest.begin(), rest.end());
    EXPECT_EQ(devices.size(), 30U);
    EXPECT_LT(*devices.rbegin(), 100U);
    EXPECT_TRUE(plan.due(t0 + 1h).empty()) << "each drop once";
}

TEST(ChurnPlan, TheSameSeedChoosesTheSameDevicesAndNoShareNone) {
    const ChurnPlan::Clock::time_point t0{};
    ChurnPlan a(1000, 0.1, t0, t0 + 10s, 3), b(1000, 0.1, t0, t0 + 10s, 3);
    EXPECT_EQ(a.due(t0 + 10s), b.due(t0 + 10s));
    EXPECT_EQ(ChurnPlan(1000, 0.0, t0, t0 + 10s, 3).planned(), 0U);
    EXPECT_EQ(ChurnPlan(10, 1.0, t0, t0 + 10s, 3).planned(), 10U);
}
}  // namespace
}  // namespace sim

// CommandExecutor: service time, seeded failures, and what a redelivery does with and without
// deduplication.
#include "sim/command_executor.hpp"

#include <gtest/gtest.h>

namespace sim {
namespace {

using namespace std::chrono_literals;
using telemetry::CommandResult;

const telemetry::Command kCommand{"r1", 5, "d1", 1, 100, "apply", "replies"};

TEST(CommandExecutor, ACommandIsAcceptedAtOnceAndAnsweredAfterItsServiceTime) {
    CommandExecutor e({20ms, 0.0, true, 1});
    const auto a = e.take(kCommand, 1'000);
    EXPECT_EQ(a.accepted.result, CommandResult::Accepted);
    EXPECT_EQ(a.final.result, CommandResult::Ok);
    EXPECT_EQ(a.after, 20ms);
    EXPECT_EQ(a.final.received_us, 1'000);
    EXPECT_EQ(a.final.answered_us, 21'000);
    EXPECT_EQ(a.final.executions, 1u);
}

TEST(CommandExecutor, ADeduplicatingDeviceAnswersARedeliveryWithoutExecutingItAgain) {
    CommandExecutor e({20ms, 0.0, true, 1});
    e.take(kCommand, 1'000);
    const auto again = e.take(kCommand, 2'000);
    EXPECT_TRUE(again.final.duplicate);
    EXPECT_EQ(again.final.executions, 1u);
    EXPECT_EQ(again.after, 0ms);
    EXPECT_EQ(e.executed(), 1u);
    EXPECT_EQ(e.recognised(), 1u);
}

TEST(CommandExecutor, ADeviceThatDoesNotDeduplicateExecutesARedeliveryAgainAndSaysSo) {
    CommandExecutor e({20ms, 0.0, false, 1});
    e.take(kCommand, 1'000);
    const auto again = e.take(kCommand, 2'000);
    EXPECT_FALSE(again.final.duplicate);
    EXPECT_EQ(again.final.executions, 2u);
    EXPECT_EQ(e.executed_again(), 1u);
}

TEST(CommandExecutor, FailuresFollowTheRateAndTheSeed) {
    CommandExecutor a({0ms, 0.25, true, 42}), b({0ms, 0.25, true, 42});
    int failed = 0;
    for (std::uint64_t id = 1; id <= 4000; ++id) {
        telemetry::Command c = kCommand;
        c.id = id;
        const bool fa = a.take(c, 0).final.result == CommandResult::Failed;
        EXPECT_EQ(fa, b.take(c, 0).final.result == CommandResult::Failed) << "same seed, same fate";
        failed += fa ? 1 : 0;
    }
    EXPECT_NEAR(failed, 1000, 120);
}

}  // namespace
}  // namespace sim

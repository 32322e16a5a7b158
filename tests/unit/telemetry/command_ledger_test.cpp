// CommandLedger: sent, delivered, answered, late, lost, executed twice, out of order.
#include "telemetry/command_ledger.hpp"

#include <gtest/gtest.h>

namespace telemetry {
namespace {

using namespace std::chrono_literals;
using Clock = CommandLedger::Clock;

const Clock::time_point t0{};

Command command(std::uint64_t id, std::string device, std::uint64_t seq) {
    return {"r1", id, std::move(device), seq, 1'000'000, "apply", "replies"};
}

CommandAnswer answer(const Command& c, CommandResult r, std::uint32_t executions = 1) {
    return {c.run, c.id, c.device, c.seq, r, executions, false, 1'001'000, 1'003'000};
}

TEST(CommandLedger, AnAnsweredCommandIsDeliveredAndAnsweredWithEachLegTimed) {
    CommandLedger ledger(1s);
    const Command c = command(1, "d1", 1);
    ledger.sent(c, t0);
    ledger.answered(answer(c, CommandResult::Accepted), t0 + 1ms, 1'001'500);
    EXPECT_FALSE(ledger.settled());
    ledger.answered(answer(c, CommandResult::Ok), t0 + 4ms, 1'004'000);
    EXPECT_TRUE(ledger.settled());
    const CommandTotals t = ledger.totals(t0 + 10s);
    EXPECT_EQ(t.sent, 1u);
    EXPECT_EQ(t.delivered, 1u);
    EXPECT_EQ(t.answered, 1u);
    EXPECT_EQ(t.lost + t.answered_late + t.failed + t.executed_twice, 0u);
    EXPECT_NEAR(static_cast<double>(ledger.round_trip().max()), 4000.0, 20.0);
    EXPECT_NEAR(static_cast<double>(ledger.to_device().max()), 1000.0, 5.0);
    EXPECT_NEAR(static_cast<double>(ledger.device_work().max()), 2000.0, 10.0);
    EXPECT_NEAR(static_cast<double>(ledger.from_device().max()), 1000.0, 5.0);
}

TEST(CommandLedger, EachSecondOfTheTimelineTakesOnlyItsOwnRoundTrips) {
    CommandLedger ledger(1s);
    const Command a = command(1, "d1", 1), b = command(2, "d1", 2);
    ledger.sent(a, t0);
    ledger.sent(b, t0);
    ledger.answered(answer(a, CommandResult::Ok), t0 + 2ms, 1'004'000);
    EXPECT_EQ(ledger.delivered(), 1u);
    EXPECT_EQ(ledger.take_second_round_trip().count(), 1u);
    EXPECT_EQ(ledger.take_second_round_trip().count(), 0u) << "taken: the next second starts empty";
    ledger.answered(answer(b, CommandResult::Ok), t0 + 50ms, 1'004'000);
    const LatencyHistogram second = ledger.take_second_round_trip();
    EXPECT_EQ(second.count(), 1u);
    EXPECT_NEAR(static_cast<double>(second.max()), 50'000.0, 250.0);
    EXPECT_EQ(ledger.round_trip().count(), 2u) << "the run's histogram keeps both";
}

TEST(CommandLedger, UnansweredIsPendingUntilItsTimeoutThenLostAndItsDeviceNamed) {
    CommandLedger ledger(1s);
    const Command c = command(1, "d7", 1);
    ledger.sent(c, t0);
    ledger.answered(answer(c, CommandResult::Accepted), t0 + 1ms, 1'001'500);
    EXPECT_EQ(ledger.totals(t0 + 500ms).pending, 1u);
    const CommandTotals t = ledger.totals(t0 + 2s);
    EXPECT_EQ(t.lost, 1u);
    EXPECT_EQ(t.delivered, 1u) << "it reached the device, which never answered";
    EXPECT_EQ(ledger.silent_devices(t0 + 2s, 5), std::vector<std::string>{"d7 (1 unanswered)"});
    EXPECT_TRUE(ledger.silent_devices(t0 + 500ms, 5).empty());
}

TEST(CommandLedger, AnAnswerAfterTheTimeoutIsLateNotLost) {
    CommandLedger ledger(1s);
    const Command c = command(1, "d1", 1);
    ledger.sent(c, t0);
    ledger.answered(answer(c, CommandResult::Failed), t0 + 3s, 4'000'000);
    const CommandTotals t = ledger.totals(t0 + 10s);
    EXPECT_EQ(t.answered, 1u);
    EXPECT_EQ(t.answered_late, 1u);
    EXPECT_EQ(t.failed, 1u);
    EXPECT_EQ(t.lost, 0u);
}

TEST(CommandLedger, ARedeliveryExecutedAgainIsExecutedTwiceOnceAndASecondAnswerADuplicate) {
    CommandLedger ledger(1s);
    const Command c = command(1, "d1", 1);
    ledger.sent(c, t0);
    ledger.answered(answer(c, CommandResult::Ok), t0 + 1ms, 1'004'000);
    ledger.answered(answer(c, CommandResult::Accepted, 2), t0 + 2ms, 1'005'000);
    ledger.answered(answer(c, CommandResult::Ok, 2), t0 + 3ms, 1'006'000);
    const CommandTotals t = ledger.totals(t0 + 10s);
    EXPECT_EQ(t.executed_twice, 1u);
    EXPECT_EQ(t.duplicate_answers, 1u);
    EXPECT_EQ(t.answered, 1u);
}

TEST(CommandLedger, AnAnswerBeforeAnEarlierCommandsOfTheSameDeviceIsOutOfOrder) {
    CommandLedger ledger(1s);
    const Command first = command(1, "d1", 1), second = command(2, "d1", 2),
                  other = command(3, "d2", 1);
    for (const Command* c : {&first, &second, &other}) ledger.sent(*c, t0);
    ledger.answered(answer(second, CommandResult::Ok), t0 + 1ms, 1'004'000);
    ledger.answered(answer(other, CommandResult::Ok), t0 + 2ms, 1'004'000);
    ledger.answered(answer(first, CommandResult::Ok), t0 + 3ms, 1'004'000);
    EXPECT_EQ(ledger.totals(t0 + 10s).out_of_order, 1u);
}

TEST(CommandLedger, AnAnswerToACommandNeverSentIsUnknown) {
    CommandLedger ledger(1s);
    const Command c = command(1, "d1", 1);
    ledger.sent(c, t0);
    ledger.answered(answer(command(9, "d1", 1), CommandResult::Ok), t0, 0);
    ledger.answered(answer(command(1, "d2", 1), CommandResult::Ok), t0, 0);
    const CommandTotals t = ledger.totals(t0 + 10ms);
    EXPECT_EQ(t.unknown, 2u);
    EXPECT_EQ(t.answered, 0u);
}

}  // namespace
}  // namespace telemetry

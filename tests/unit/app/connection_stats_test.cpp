// ConnectionStats: the connection workloads' step timings, refusals and losses as the report
// gives them, and two processes' connections merged as one.

#include "app/connection_stats.hpp"

#include <gtest/gtest.h>

namespace app {
namespace {

using namespace std::chrono_literals;
using Step = mqtt::StepTiming::Step;

TEST(ConnectionStats, EachStepIsAHistogramAndReconnectAttemptsAreKeptApart) {
    const auto start = ConnectionStats::Clock::time_point{} + 1s;
    ConnectionStats stats(2, start);
    stats.record({Step::Tcp, 100us}, start);
    stats.record({Step::Connack, 300us}, start + 500ms);
    stats.record({Step::Tcp, 120us}, start);
    stats.record({Step::Connack, 310us}, start + 1s);
    stats.record({Step::Suback, 50us}, start + 1s);
    stats.record({Step::Tcp, 900us, true}, start + 2s);
    stats.record({Step::Connack, 700us, true}, start + 2s);
    stats.record({Step::Outage, 40ms, true, mqtt::ReasonCode::Success, true}, start + 2s);
    const report::Connections c = stats.report();
    EXPECT_EQ(c.planned, 2u);
    EXPECT_EQ(c.connected, 3u) << "first connects and the reconnect";
    EXPECT_EQ(c.subscribed, 1u);
    EXPECT_EQ(c.reconnected, 1u);
    EXPECT_EQ(c.lost, 0u) << "a drop asked for is no loss";
    EXPECT_EQ(c.steps_us.at("tcp").count, 2u);
    EXPECT_EQ(c.steps_us.at("reconnect_tcp").count, 1u);
    EXPECT_EQ(c.steps_us.at("reconnect_connack").max, 700);
    EXPECT_EQ(c.steps_us.at("outage").max, 40'000);
    EXPECT_DOUBLE_EQ(c.connect_rate, 2.0) << "two first CONNACKs in the second from the start";
}

TEST(ConnectionStats, RefusalsAreCountedByReasonAndAnUnaskedDropIsALoss) {
    ConnectionStats stats(3);
    stats.record({Step::Connack, 200us, false, mqtt::ReasonCode::NotAuthorized});
    stats.record({Step::Connack, 200us, false, mqtt::ReasonCode::NotAuthorized});
    stats.record({Step::Suback, 80us, false, mqtt::ReasonCode::NotAuthorized});
    stats.record({Step::Outage, 2s, true});
    stats.failed("connection 1 (c-1): refused");
    const report::Connections c = stats.report();
    EXPECT_EQ(c.refused, 2u);
    EXPECT_EQ(c.connected, 0u);
    ASSERT_EQ(c.refused_by_reason.size(), 1u);
    EXPECT_EQ(c.refused_by_reason.begin()->second, 2u);
    EXPECT_NE(c.refused_by_reason.begin()->first.find("(0x87)"), std::string::npos);
    EXPECT_EQ(c.subscribe_refused, 1u);
    EXPECT_EQ(c.lost, 1u);
    EXPECT_EQ(c.failed, 1u);
    EXPECT_EQ(c.failures, std::vector<std::string>{"connection 1 (c-1): refused"});
    EXPECT_EQ(c.connect_rate, 0.0) << "nothing connected: no rate";
}

TEST(ConnectionStats, TwoProcessesConnectionsMergeAsOne) {
    ConnectionStats a(1), b(1);
    a.record({Step::Connack, 100us});
    b.record({Step::Connack, 10ms});
    b.record({Step::Connack, 5ms, false, mqtt::ReasonCode::ServerBusy});
    report::Connections merged = a.report();
    report::add_connections(merged, b.report());
    EXPECT_EQ(merged.planned, 2u);
    EXPECT_EQ(merged.connected, 2u);
    EXPECT_EQ(merged.refused, 1u);
    EXPECT_EQ(merged.steps_us.at("connack").count, 3u);
    EXPECT_NEAR(static_cast<double>(merged.steps_us.at("connack").p50), 5000.0, 20.0)
        << "5 ms, within its bucket";
    EXPECT_GE(merged.steps_us.at("connack").max, 9'960);
}

}  // namespace
}  // namespace app

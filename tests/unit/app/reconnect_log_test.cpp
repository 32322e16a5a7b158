// The reconnects of a run: one line each, saying whether the broker kept the session, and one
// report row each.
#include "app/reconnect_log.hpp"

#include <gtest/gtest.h>

namespace app {
namespace {

mqtt::Reconnection reconnection(bool session_present) {
    return {"connection reset by peer", 1.5, 3, session_present, false};
}

TEST(ReconnectLog, EachReconnectIsOneLineAndOneRowWithItsCauseOutageAndAttempts) {
    ProgressLine progress("mqtt_subscriber", false);
    ReconnectLog log(progress, std::chrono::steady_clock::now(), true);
    testing::internal::CaptureStderr();
    log.record(reconnection(true));
    const std::string line = testing::internal::GetCapturedStderr();
    EXPECT_NE(line.find("mqtt_subscriber: "), std::string::npos) << line;
    EXPECT_NE(line.find("after 1.5 s (3 attempts; lost: connection reset by peer); session kept"),
              std::string::npos)
        << line;
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << "shown even with --quiet";
    ASSERT_EQ(log.count(), 1U);
    const report::Reconnect row = log.rows().at(0);
    EXPECT_EQ(row.cause, "connection reset by peer");
    EXPECT_DOUBLE_EQ(row.outage_s, 1.5);
    EXPECT_EQ(row.attempts, 3);
    EXPECT_TRUE(row.session_present);
    EXPECT_GE(row.t_s, 0.0);
}

TEST(ReconnectLog, APersistentSessionTheBrokerLostIsSaidLoudly) {
    ProgressLine progress("mqtt_subscriber", false);
    ReconnectLog persistent(progress, std::chrono::steady_clock::now(), true);
    testing::internal::CaptureStderr();
    persistent.record(reconnection(false));
    std::string line = testing::internal::GetCapturedStderr();
    EXPECT_NE(line.find("the broker LOST our session and what it had queued for us"),
              std::string::npos)
        << line;

    // With a clean session there was nothing to keep: no alarm.
    ReconnectLog clean(progress, std::chrono::steady_clock::now(), false);
    testing::internal::CaptureStderr();
    clean.record(reconnection(false));
    line = testing::internal::GetCapturedStderr();
    EXPECT_NE(line.find("; clean session"), std::string::npos) << line;
    EXPECT_EQ(line.find("LOST"), std::string::npos) << line;
}

}  // namespace
}  // namespace app

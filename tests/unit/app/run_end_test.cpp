// Why a run ended, and the one exit status each reason has.
#include "app/run_end.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "app/exit_status.hpp"

namespace app {
namespace {

TEST(RunEnd, EachEndReasonHasOneExitStatus) {
    EXPECT_EQ(exit_status_for(EndReason::Complete), kSuccess);
    EXPECT_EQ(exit_status_for(EndReason::Count), kSuccess);
    EXPECT_EQ(exit_status_for(EndReason::IdleTimeout), kSuccess) << "the verdict decides";
    EXPECT_EQ(exit_status_for(EndReason::Interrupted), kInterrupted);
    EXPECT_EQ(exit_status_for(EndReason::BrokerError), kBrokerError);
    EXPECT_EQ(exit_status_for(EndReason::ConnectionLost), kBrokerError);
    EXPECT_EQ(exit_status_for(EndReason::LocalError), kBrokerError);
    EXPECT_EQ(exit_status_for(EndReason::Rejected), kVerificationFailed);
    EXPECT_EQ(exit_status_for(EndReason::Unconfirmed), kVerificationFailed);
    EXPECT_EQ(end_reason_name(EndReason::IdleTimeout), "idle-timeout");
}

TEST(RunEnd, ErrorsThatAreNotMqttErrorsBecomeALocalErrorInsteadOfTerminating) {
    const auto end = guarded(EndReason::ConnectionLost,
                             [] { throw std::runtime_error("epoll_wait: bad file descriptor"); });
    ASSERT_TRUE(end);
    EXPECT_EQ(end->reason, EndReason::LocalError);
    EXPECT_EQ(end->error, "epoll_wait: bad file descriptor");
}
}  // namespace
}  // namespace app

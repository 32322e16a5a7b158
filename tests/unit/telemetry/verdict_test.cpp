// telemetry::judge, the one place that decides "verified" (telemetry/verdict.hpp).
#include "telemetry/verdict.hpp"

#include <gtest/gtest.h>

namespace telemetry {
namespace {

TEST(Judge, NoFailedCheckAndNormalEndingsAreVerified) {
    const Verdict v = judge({}, {{"the subscriber", 0, "complete", false}});
    EXPECT_TRUE(v.verified());
    EXPECT_EQ(v.exit_status, 0);
    EXPECT_TRUE(v.failed.empty());
}

TEST(Judge, AFailedCheckAloneFailsWithExitStatusOne) {
    const Verdict v = judge({"missing 3 > --max-missing 0"}, {});
    EXPECT_FALSE(v.verified());
    EXPECT_EQ(v.exit_status, kChecksFailed);
    EXPECT_EQ(v.failed, std::vector<std::string>{"missing 3 > --max-missing 0"});
}

TEST(Judge, AnAbnormalEndingFailsEvenWhenEveryCheckPassed) {
    const Verdict v = judge({}, {{"the subscriber", 3, "connection-lost", false}});
    EXPECT_FALSE(v.verified());
    EXPECT_EQ(v.exit_status, 3);
    ASSERT_EQ(v.failed.size(), 1u);
    EXPECT_EQ(v.failed[0], "the subscriber ended with exit status 3 (connection-lost)");
}

TEST(Judge, AnEndingsStatusOutranksFailedChecksAndAnExplainedEndingAddsNoLine) {
    const Verdict v = judge({"no message arrived"}, {{"the subscriber", 130, "interrupted", true}});
    EXPECT_EQ(v.exit_status, 130);
    EXPECT_EQ(v.failed, std::vector<std::string>{"no message arrived"});
}

TEST(Judge, EveryAbnormalEndingIsNamedAndTheFirstSetsTheStatus) {
    const Verdict v = judge({}, {{"publisher a", 0, "complete", false},
                                 {"publisher b", 3, "broker-unreachable", false},
                                 {"publisher c", 1, "unconfirmed", false}});
    EXPECT_EQ(v.exit_status, 3);
    ASSERT_EQ(v.failed.size(), 2u);
    EXPECT_EQ(v.failed[1], "publisher c ended with exit status 1 (unconfirmed)");
}

}  // namespace
}  // namespace telemetry

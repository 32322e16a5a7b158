// The start barrier's message: what a shard waits for, and when it begins.
#include "telemetry/run_start.hpp"

#include <gtest/gtest.h>

namespace telemetry {
namespace {

TEST(RunStart, RoundTripsThroughItsJson) {
    const RunStart s{"job-7", 4, 1'733'443'205'000'000};
    std::string error;
    EXPECT_EQ(decode_run_start(encode_run_start(s), error), s) << error;
    EXPECT_EQ(run_start_topic("job-7"), "telemetry/run-start/job-7");
}

TEST(RunStart, AnythingElseIsRefusedSayingWhy) {
    std::string error;
    EXPECT_FALSE(decode_run_start("{\"type\":\"progress\"}", error));
    EXPECT_EQ(error, "not a run_start object");
    EXPECT_FALSE(decode_run_start(R"({"type":"run_start","run":"r","shards":"4"})", error));
    EXPECT_NE(error.find("\"shards\""), std::string::npos) << error;
    EXPECT_FALSE(
        decode_run_start(R"({"type":"run_start","run":"r","shards":0,"start_epoch_us":1})", error));
    EXPECT_FALSE(decode_run_start("not json", error));
}

TEST(RunStart, TwoAnnouncementsMomentsApartNameTheSameInstant) {
    const std::int64_t grid = 5'000'000, delay = 2'000'000;
    EXPECT_EQ(start_on_grid(10'100'000, delay, grid), 15'000'000);
    EXPECT_EQ(start_on_grid(10'900'000, delay, grid), 15'000'000);
    EXPECT_EQ(start_on_grid(13'000'000, delay, grid), 20'000'000) << "always after the delay";
}

}  // namespace
}  // namespace telemetry

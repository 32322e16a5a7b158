// A run spread over several publisher processes (--shard I/N) and verified as one run.
#include <gtest/gtest.h>

#include "pair.hpp"

namespace harness {
namespace {

TEST(Shards, TwoPublisherShardsOfOneRunAreVerifiedAsOneRunOnlyWhenBothHaveSummarised) {
    Broker broker;
    TempDir dir;
    auto sub = start_subscriber(broker.port_str(), dir, {});
    const auto shard = [&](const std::string& which) {
        return run({publisher_path(), "-p", broker.port_str(), "--run-id", "sharded", "-d", "20",
                    "-n", "10001", "--shard", which, "--report",
                    (dir / ("pub-" + which.substr(0, 1) + ".json")).string()},
                   dir.path(), 120s);
    };
    const RunResult first = shard("1/2");
    ASSERT_EQ(first.status, 0) << first.err;
    // The first shard's summary does not end the run: the second shard's devices are missing.
    ASSERT_TRUE(wait_for_text(dir / "sub.err", "(shard 1 of 2)", 30s))
        << read_file(dir / "sub.err");
    EXPECT_TRUE(sub->running()) << read_file(dir / "sub.err");
    const RunResult second = shard("2/2");
    ASSERT_EQ(second.status, 0) << second.err;
    ASSERT_EQ(sub->wait(60s), 0) << read_file(dir / "sub.err");
    const nlohmann::json a = read_json(dir / "pub-1.json"), b = read_json(dir / "pub-2.json");
    EXPECT_EQ(a.at("published"), 5001);  // devices 1, 3, ..., 19 (sensor-0001 sends one more)
    EXPECT_EQ(b.at("published"), 5000);
    const nlohmann::json report = read_json(dir / "sub.json");
    EXPECT_EQ(report.at("unique"), 10001);
    EXPECT_EQ(report.at("expected"), 10001);
    EXPECT_EQ(report.at("missing"), 0);
    EXPECT_EQ(report.at("duplicates"), 0);
    EXPECT_EQ(report.at("devices"),
              (nlohmann::json{{"known", 20}, {"seen", 20}, {"complete", 20}, {"with_loss", 0}}));
    EXPECT_EQ(report.at("summaries").size(), 2U);
    EXPECT_TRUE(report.at("verified").get<bool>());
}

}  // namespace
}  // namespace harness

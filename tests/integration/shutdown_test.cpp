// Ctrl-C/SIGTERM mid-run: stop, await outstanding confirmations (bounded), disconnect, print
// and write the final figures, exit 130.

#include <signal.h>

#include <gtest/gtest.h>

#include "pair.hpp"

namespace harness {
namespace {

TEST(Shutdown, PublisherInterruptedMidRunDrainsAndReports) {
    Broker broker;
    TempDir dir;
    ChildProcess pub({publisher_path(), "-p", broker.port_str(), "-n", "100000000", "-r", "20000",
                      "--report", (dir / "pub.json").string()},
                     dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_count(dir / "pub.err", "confirmed ", 5000, 30s))
        << read_file(dir / "pub.err");
    pub.signal(SIGINT);
    ASSERT_EQ(pub.wait(30s), 130);
    const auto rep = read_json(dir / "pub.json");
    EXPECT_GT(rep.at("published").get<std::uint64_t>(), 0u);
    EXPECT_EQ(rep.at("confirmed"), rep.at("published"));  // drained, not abandoned
    EXPECT_EQ(rep.at("end_reason"), "interrupted");
    EXPECT_NE(read_file(dir / "pub.out").find("(interrupted)"), std::string::npos);
}

TEST(Shutdown, SubscriberTerminatedMidRunReportsWhatItCounted) {
    Broker broker;
    TempDir dir;
    const auto sub = start_subscriber(broker.port_str(), dir, {});
    ChildProcess pub({publisher_path(), "-p", broker.port_str(), "-n", "100000000", "-r", "20000"},
                     dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_count(dir / "sub.err", "received ", 3000, 30s))
        << read_file(dir / "sub.err");
    sub->signal(SIGTERM);
    ASSERT_EQ(sub->wait(30s), 130);
    const auto rep = read_json(dir / "sub.json");
    EXPECT_GE(rep.at("received").get<std::uint64_t>(), 3000u);
    EXPECT_EQ(rep.at("end_reason"), "interrupted");
    EXPECT_EQ(rep.at("exit_status"), 130);
    pub.signal(SIGTERM);
    EXPECT_EQ(pub.wait(30s), 130);
}

TEST(Shutdown, IdleSubscriberInterruptedExitsPromptly) {
    Broker broker;
    TempDir dir;
    const auto sub = start_subscriber(broker.port_str(), dir, {});
    sub->signal(SIGINT);
    EXPECT_EQ(sub->wait(10s), 130);
    EXPECT_EQ(read_json(dir / "sub.json").at("received"), 0);
}

}  // namespace
}  // namespace harness

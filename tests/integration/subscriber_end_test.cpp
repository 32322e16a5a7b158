// How a subscriber's run ends: the idle timeout, and an interrupted publisher's summary.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "pair.hpp"
#include "telemetry/run_summary.hpp"

namespace harness {
namespace {

TEST(SubscriberEnd, NothingArrivingEndsOnTheIdleTimeoutNotVerified) {
    Broker broker;
    TempDir dir;
    const auto r = run({subscriber_path(), "-p", broker.port_str(), "--idle-timeout", "0.5",
                        "--report", (dir / "sub.json").string()},
                       dir.path(), 60s);
    EXPECT_EQ(r.status, 1) << r.err;
    const auto rep = read_json(dir / "sub.json");
    EXPECT_EQ(rep.at("end_reason"), "idle-timeout");
    EXPECT_EQ(rep.at("failed_checks"), nlohmann::json::array({"no message arrived"}));
    EXPECT_NE(r.out.find("mqtt_subscriber: NOT VERIFIED: "), std::string::npos) << r.out;
}

TEST(SubscriberEnd, AnInterruptedPublishersSummaryEndsTheRunVerifiedForWhatWasSent) {
    Broker broker;
    TempDir dir;
    const auto sub = start_subscriber(broker.port_str(), dir, {});
    ChildProcess pub({publisher_path(), "-p", broker.port_str(), "-n", "100000", "-r", "2000",
                      "--report", (dir / "pub.json").string()},
                     dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_count(dir / "sub.err", "received ", 1000, 30s));
    pub.signal(SIGINT);
    EXPECT_EQ(pub.wait(60s), 130);
    EXPECT_EQ(sub->wait(60s), 0) << read_file(dir / "sub.out");
    const auto pub_rep = read_json(dir / "pub.json");
    const auto sub_rep = read_json(dir / "sub.json");
    EXPECT_NE(read_file(dir / "sub.err").find("(publisher interrupted)"), std::string::npos);
    EXPECT_EQ(sub_rep.at("end_reason"), "complete");
    EXPECT_EQ(sub_rep.at("unique"), pub_rep.at("published"));
    EXPECT_LT(pub_rep.at("published").get<int>(), 100000);
}
}  // namespace
}  // namespace harness

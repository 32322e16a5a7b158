// The publisher's verdict end to end: exit 1 for messages the broker never confirmed or refused.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "pair.hpp"
#include "scripted_brokers.hpp"

namespace harness {
namespace {

using testing_support::SilentBroker;

TEST(PublisherVerdict, ConfirmationsOutlastingTheDrainTimeoutAreUnconfirmedExitOne) {
    SilentBroker broker;
    TempDir dir;
    // A window that takes all 50 at once, so that the publisher reaches its drain (with
    // --window auto it would wait, STALLED, for room that a silent broker never makes).
    const auto r = run({publisher_path(), "-p", broker.port(), "-n", "50", "-w", "1000",
                        "--drain-timeout", "0.5", "--report", (dir / "pub.json").string()},
                       dir.path(), 60s);
    EXPECT_EQ(r.status, 1) << r.err;
    const auto rep = read_json(dir / "pub.json");
    EXPECT_EQ(rep.at("published"), 50);
    EXPECT_EQ(rep.at("confirmed"), 0);
    EXPECT_EQ(rep.at("unconfirmed"), 50);
    EXPECT_EQ(rep.at("end_reason"), "unconfirmed");
    EXPECT_NE(r.err.find("50 of 50 messages were not confirmed within 0.5 s"), std::string::npos)
        << r.err;
}

TEST(PublisherVerdict, PublishesDeniedByTheBrokersAclAreRejectedExitOne) {
    // MQTT 5: Mosquitto answers a publish its ACL denies with PUBACK 0x87.
    TempDir dir;
    {
        std::ofstream acl(dir / "acl");
        acl << "topic write telemetry/#\n";  // the control topic only: telemetry is denied
    }
    Broker broker({{}, {"acl_file " + (dir / "acl").string()}});
    const auto r = run({publisher_path(), "-p", broker.port_str(), "-n", "40", "--report",
                        (dir / "pub.json").string()},
                       dir.path(), 60s);
    EXPECT_EQ(r.status, 1) << r.err;
    const auto rep = read_json(dir / "pub.json");
    EXPECT_EQ(rep.at("rejected"), 40);
    EXPECT_EQ(rep.at("confirmed"), 0);
    EXPECT_EQ(rep.at("unconfirmed"), 0);
    EXPECT_EQ(rep.at("end_reason"), "rejected");
    EXPECT_NE(r.err.find("0x87"), std::string::npos) << r.err;
}
}  // namespace
}  // namespace harness

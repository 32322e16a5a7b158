// What the programs print: progress lines, --quiet, --print, --qos, --version.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "pair.hpp"

namespace harness {
namespace {

TEST(Output, ProgressEveryZeroPrintsNoProgressLines) {
    Broker broker;
    TempDir dir;
    const auto r =
        run_pair(broker, dir, {"-n", "5000", "--progress-every", "0"}, {"--progress-every", "0"});
    expect_verified(r, 5000);
    EXPECT_EQ(r.publisher_err.find("sent "), std::string::npos) << r.publisher_err;
    EXPECT_EQ(r.subscriber_err.find("received "), std::string::npos) << r.subscriber_err;
    EXPECT_NE(r.subscriber_err.find("(ready)"), std::string::npos) << "info lines stay";
}

TEST(Output, QuietPrintsOnlyTheResult) {
    Broker broker;
    TempDir dir;
    const auto pub =
        run({publisher_path(), "-p", broker.port_str(), "-n", "2000", "--quiet"}, dir.path(), 60s);
    EXPECT_EQ(pub.status, 0) << pub.err;
    EXPECT_EQ(pub.err, "");
    EXPECT_NE(pub.out.find("published 2000, confirmed 2000"), std::string::npos) << pub.out;
    const auto sub =
        run({subscriber_path(), "-p", broker.port_str(), "--quiet", "--idle-timeout", "0.3"},
            dir.path(), 60s);
    EXPECT_EQ(sub.err, "");
    EXPECT_NE(sub.out.find("mqtt_subscriber: NOT VERIFIED: "), std::string::npos) << sub.out;
}

TEST(Output, PrintWritesEachIntactReadingAsOneJsonLineOnStdout) {
    Broker broker;
    TempDir dir;
    const auto r = run_pair(broker, dir, {"-n", "500", "-d", "5"}, {"--print"});
    EXPECT_EQ(r.subscriber_status, 0) << r.subscriber_err;
    std::set<std::pair<std::string, std::uint64_t>> seen;
    std::istringstream lines(r.subscriber_out);
    for (std::string line; std::getline(lines, line);) {
        const auto doc = nlohmann::json::parse(line, nullptr, false);
        ASSERT_FALSE(doc.is_discarded()) << "not one JSON object per line: " << line;
        const auto& reading = doc.at("reading");
        EXPECT_EQ(doc.at("topic"),
                  "sensors/" + reading.at("dev").get<std::string>() + "/telemetry");
        EXPECT_GE(doc.at("received_us").get<std::int64_t>(), reading.at("ts").get<std::int64_t>());
        seen.emplace(reading.at("dev"), reading.at("seq"));
    }
    EXPECT_EQ(seen.size(), 500u);
    // The verdict goes to stderr, so stdout is the readings only.
    EXPECT_NE(r.subscriber_err.find("mqtt_subscriber: VERIFIED: "), std::string::npos)
        << r.subscriber_err;
}

TEST(Output, QosFlagSetsTheTelemetrySubscriptionAndTheControlTopicStaysQos1) {
    for (const std::string qos : {"0", "2"}) {
        Broker broker({{}, {"log_type subscribe"}});
        TempDir dir;
        const auto r = run_pair(broker, dir, {"-n", "2000"}, {"-q", qos});
        expect_verified(r, 2000);
        // Mosquitto logs each subscription as "<client id> <qos> <filter>".
        const std::string log = read_file(broker.dir() / "mosquitto.log");
        EXPECT_NE(log.find(" " + qos + " sensors/+/telemetry"), std::string::npos) << log;
        EXPECT_NE(log.find(" 1 telemetry/run-summary"), std::string::npos) << log;
    }
}

TEST(Output, EveryProgramPrintsItsVersion) {
    TempDir dir;
    for (const std::string& program :
         {publisher_path(), subscriber_path(), std::string(MQTT_REPORT_PATH)}) {
        const auto r = run({program, "--version"}, dir.path());
        EXPECT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(r.out.rfind(fs::path(program).filename().string() + " 0.", 0), 0u) << r.out;
    }
}
}  // namespace
}  // namespace harness

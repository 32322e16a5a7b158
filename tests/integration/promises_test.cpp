// The docs' promises that had no test: publisher exit 1 for refused and unconfirmed messages,
// a lost connection in both programs and both engines, output files checked before anything
// connects, the idle timeout, the interrupted summary, the thresholds end to end, the progress
// and quiet flags, and that --rate holds.

#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "pair.hpp"
#include "scripted_peer.hpp"
#include "telemetry/payload.hpp"
#include "telemetry/run_summary.hpp"

namespace harness {
namespace {

// A broker that accepts the connection and then never acknowledges a message: a CONNACK for
// MQTT 5 (accepted, no properties), then it reads and discards until the client goes.
struct SilentBroker {
    testing_support::ScriptedListener listener{
        1, [](int fd, int) {
            testing_support::read_packet(fd, mqtt::protocol::Version::V5);  // CONNECT
            testing_support::write_bytes(fd, std::string_view("\x20\x03\x00\x00\x00", 5));
            testing_support::discard_until_closed(fd);
        }};
    std::string port() const { return std::to_string(listener.port()); }
};

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

class ConnectionLost : public testing::TestWithParam<std::string> {};

TEST_P(ConnectionLost, BrokerKilledMidRunIsExitThreeWithAReportFromEachProgram) {
    // --give-up-after 0: no reconnecting (tests/integration/reconnect_test.cpp has those).
    Broker broker;
    TempDir dir;
    const auto sub =
        start_subscriber(broker.port_str(), dir, {"--client", GetParam(), "--give-up-after", "0"});
    ChildProcess pub(
        {publisher_path(), "-p", broker.port_str(), "--client", GetParam(), "-n", "100000", "-r",
         "2000", "--give-up-after", "0", "--report", (dir / "pub.json").string()},
        dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_count(dir / "sub.err", "received ", 1000, 30s));
    ::kill(broker.pid(), SIGKILL);
    EXPECT_EQ(pub.wait(60s), 3) << read_file(dir / "pub.err");
    EXPECT_EQ(sub->wait(60s), 3) << read_file(dir / "sub.err");
    for (const char* report : {"pub.json", "sub.json"}) {
        const auto rep = read_json(dir / report);
        EXPECT_EQ(rep.at("end_reason"), "connection-lost") << report;
        EXPECT_EQ(rep.at("exit_status"), 3) << report;
        EXPECT_NE(rep.at("error").get<std::string>().find("127.0.0.1:" + broker.port_str()),
                  std::string::npos)
            << rep.at("error");
    }
    EXPECT_GE(read_json(dir / "sub.json").at("unique").get<int>(), 1000);
}

INSTANTIATE_TEST_SUITE_P(BothEngines, ConnectionLost, testing::Values("native", "libmosquitto"));

TEST(SubscriberFiles, AnUnwritableOutputFileIsAUsageErrorBeforeConnecting) {
    TempDir dir;
    // No broker listens on this port: exit 2 (not 3) shows the file was checked first.
    const std::string port = std::to_string(free_port());
    for (const char* flag : {"--report", "--csv", "--html"}) {
        const auto r =
            run({subscriber_path(), "-p", port, flag, "/nonexistent-dir/out"}, dir.path(), 30s);
        EXPECT_EQ(r.status, 2) << flag << ": " << r.err;
        EXPECT_NE(r.err.find("/nonexistent-dir/out"), std::string::npos) << r.err;
    }
}

// A result file is written whole at the end or not at all: a subscriber killed mid-run
// leaves neither an empty report nor its temporary file, and an earlier report stays as it was
// [issue 29]. (Before, the report was created empty up front.)
TEST(SubscriberFiles, AKilledRunLeavesNoEmptyReportAndKeepsTheEarlierOne) {
    Broker broker;
    TempDir dir;
    const fs::path earlier = dir / "earlier.json";
    { std::ofstream(earlier) << "{\"kept\": true}\n"; }
    auto fresh = start_subscriber(broker.port_str(), dir, {"--html", (dir / "sub.html").string()});
    auto again = [&] {
        std::vector<std::string> cmd{subscriber_path(), "-p", broker.port_str(), "--report",
                                     earlier.string()};
        return std::make_unique<ChildProcess>(cmd, dir / "again.out", dir / "again.err");
    }();
    EXPECT_TRUE(wait_for_text(dir / "again.err", "(ready)", 20s)) << read_file(dir / "again.err");
    fresh->signal(SIGKILL);
    again->signal(SIGKILL);
    fresh->wait(10s);
    again->wait(10s);
    EXPECT_FALSE(fs::exists(dir / "sub.json")) << "an empty report was left behind";
    EXPECT_FALSE(fs::exists(dir / "sub.html"));
    EXPECT_FALSE(fs::exists(dir / "sub.json.tmp"));
    EXPECT_EQ(read_file(earlier), "{\"kept\": true}\n");
}

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

// Forged telemetry from an independent client (mosquitto_pub), with valid checksums.
std::string forged_reading(std::uint64_t seq) {
    telemetry::Reading r;
    r.run = "forged";
    r.device = "d1";
    r.seq = seq;
    r.ts_us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    r.temperature_c = 20;
    r.humidity_pct = 50;
    r.pressure_hpa = 1000;
    r.battery_pct = 80;
    std::string out;
    telemetry::encode_reading(r, out);
    return out;
}

struct Forged {
    int status;
    nlohmann::json report;
    std::string out;
};

// Sends readings with these sequence numbers and then a summary ending at `last`.
Forged verify_forged(const std::vector<std::uint64_t>& seqs, std::uint64_t last,
                     const std::vector<std::string>& sub_args) {
    Broker broker;
    TempDir dir;
    std::vector<std::string> args{"--idle-timeout", "2"};
    args.insert(args.end(), sub_args.begin(), sub_args.end());
    const auto sub = start_subscriber(broker.port_str(), dir, args);
    const auto send = [&](const std::string& topic, const std::string& payload) {
        EXPECT_EQ(
            run({"mosquitto_pub", "-p", broker.port_str(), "-q", "1", "-t", topic, "-m", payload},
                dir.path())
                .status,
            0);
    };
    for (std::uint64_t seq : seqs) send("sensors/d1/telemetry", forged_reading(seq));
    send("telemetry/run-summary",
         telemetry::encode_run_summary({"forged", 1, last, last, false, {{"d1", last, last}}}));
    const auto status = sub->wait(60s);
    return {status.value_or(-1), read_json(dir / "sub.json"), read_file(dir / "sub.out")};
}

TEST(Thresholds, MaxMissingToleratesThatManyMissingEndToEnd) {
    const auto strict = verify_forged({1, 2, 4}, 4, {});
    EXPECT_EQ(strict.status, 1);
    EXPECT_EQ(strict.report.at("missing"), 1);
    const auto tolerant = verify_forged({1, 2, 4}, 4, {"--max-missing", "1"});
    EXPECT_EQ(tolerant.status, 0) << tolerant.out;
    EXPECT_EQ(tolerant.report.at("verified"), true);
}

TEST(Thresholds, MaxDuplicatesFailsAboveItEndToEnd) {
    const auto legal = verify_forged({1, 2, 2, 3}, 3, {});
    EXPECT_EQ(legal.status, 0) << "duplicates are legal at QoS 1 by default: " << legal.out;
    EXPECT_EQ(legal.report.at("duplicates"), 1);
    const auto strict = verify_forged({1, 2, 2, 3}, 3, {"--max-duplicates", "0"});
    EXPECT_EQ(strict.status, 1);
    EXPECT_EQ(strict.report.at("failed_checks"),
              nlohmann::json::array({"duplicates 1 > --max-duplicates 0"}));
}

// Two publishers under one run id, other seeds: their readings share sequence numbers but not
// values. Before issue 29 these counted as legal duplicates and the run was VERIFIED.
TEST(Contradiction, ASecondPublisherUsingTheRunIdIsNotVerifiedAndNamed) {
    Broker broker;
    TempDir dir;
    const auto sub = start_subscriber(broker.port_str(), dir, {"--idle-timeout", "3"});
    const auto publisher = [&](const std::string& name, const std::string& seed) {
        return std::make_unique<ChildProcess>(
            std::vector<std::string>{publisher_path(), "-p", broker.port_str(), "--run-id",
                                     "twin-run", "--seed", seed, "-n", "2000", "--rate", "2000"},
            dir / (name + ".out"), dir / (name + ".err"));
    };
    auto a = publisher("a", "1");
    auto b = publisher("b", "2");
    a->wait(60s);
    b->wait(60s);
    ASSERT_EQ(sub->wait(60s), 1) << read_file(dir / "sub.out");
    const std::string out = read_file(dir / "sub.out");
    EXPECT_NE(out.find("arrived twice with different values"), std::string::npos) << out;
    EXPECT_GT(read_json(dir / "sub.json").at("contradictions").get<int>(), 0);
}

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

TEST(Rate, ThePublisherNeverRunsAheadOfItsRate) {
    Broker broker;
    TempDir dir;
    const auto r = run({publisher_path(), "-p", broker.port_str(), "-n", "3000", "-r", "1000",
                        "--report", (dir / "pub.json").string()},
                       dir.path(), 60s);
    ASSERT_EQ(r.status, 0) << r.err;
    const auto rep = read_json(dir / "pub.json");
    // 3,000 messages at 1,000/s cannot take less than 2 s (the last is due at 2.999 s).
    EXPECT_GE(rep.at("elapsed_s").get<double>(), 2.9);
    EXPECT_LE(rep.at("msgs_per_sec").get<double>(), 1000.0 * 3000 / 2900);
    for (const auto& row : rep.at("timeline")) {
        if (row.at("t").get<double>() >= 1.5) {  // whole seconds after the start
            EXPECT_LE(row.at("msgs_per_sec").get<double>(), 1500.0) << row.dump();
        }
    }
}

}  // namespace
}  // namespace harness

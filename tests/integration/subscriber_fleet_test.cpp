// mqtt_subscriber --connections N: many subscribers in one process, each proven complete on
// its own ledger (a fan-out), against a real Mosquitto.

#include <signal.h>

#include <fmt/format.h>

#include "pair.hpp"

namespace harness {
namespace {

TEST(SubscriberFleet, AHundredIndependentSubscribersAreEachVerifiedExactly) {
    Broker broker;
    TempDir dir;
    // Paced for the sanitizers: 100 deliveries per message cost the fleet most of a core here.
    const auto r = run_pair(
        broker, dir, {"-n", "3000", "-d", "50", "-r", "600", "--max-schedule-lag-ms", "60000"},
        {"--connections", "100", "-i", "fleet", "--idle-timeout", "20"});
    ASSERT_EQ(r.publisher_status, 0) << r.publisher_err;
    ASSERT_EQ(r.subscriber_status, 0) << r.subscriber_out;
    EXPECT_NE(r.subscriber_out.find("VERIFIED: 100 of 100 subscribers complete: 300000 "
                                    "deliveries of 300000 expected (amplification 100.00), "
                                    "missing 0, duplicates 0"),
              std::string::npos)
        << r.subscriber_out;
    const auto& consumers = r.subscriber.at("consumers");
    ASSERT_EQ(consumers.size(), 100u);
    for (const auto& c : consumers) {
        EXPECT_EQ(c.at("unique"), 3000) << c.dump();
        EXPECT_EQ(c.at("rule"), "independent");
        EXPECT_TRUE(c.at("verified").get<bool>());
    }
    EXPECT_EQ(consumers.at(41).at("reports"), "subscriber 42 (fleet-42)");
    EXPECT_EQ(r.subscriber.at("members").size(), 100u);
    EXPECT_DOUBLE_EQ(r.subscriber.at("amplification").get<double>(), 100.0);
}

TEST(SubscriberFleet, AFleetThatStallsNamesEachSubscriberAndItsLoss) {
    // The broker keeps 200 messages per subscriber; the fleet stops while 6,000 more are
    // published, so every one of its subscribers loses some, each counted on its own ledger.
    Broker broker({{{"max_queued_messages", "200"}, {"max_inflight_messages", "20"}}, {}});
    TempDir dir;
    const auto fleet = start_subscriber(
        broker.port_str(), dir,
        {"--connections", "5", "-i", "stall", "--idle-timeout", "3", "--receive-maximum", "20"});
    ChildProcess publisher({publisher_path(), "-p", broker.port_str(), "-n", "10000", "-r", "3000",
                            "--max-schedule-lag-ms", "60000"},
                           dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_count(dir / "sub.err", "received ", 2000, 20s))
        << read_file(dir / "sub.err");
    fleet->signal(SIGSTOP);
    ASSERT_TRUE(wait_for_count(dir / "pub.err", "confirmed ", 8000, 60s))
        << read_file(dir / "pub.err");
    fleet->signal(SIGCONT);
    ASSERT_EQ(publisher.wait(120s), 0) << read_file(dir / "pub.err");
    ASSERT_EQ(fleet->wait(120s), 1) << read_file(dir / "sub.out");
    const std::string out = read_file(dir / "sub.out");
    EXPECT_NE(out.find("NOT VERIFIED: 0 of 5 subscribers complete"), std::string::npos) << out;
    const auto report = read_json(dir / "sub.json");
    std::uint64_t lost = 0;
    for (const auto& c : report.at("consumers")) {
        const std::uint64_t missing = c.at("missing");
        ASSERT_GT(missing, 0u) << c.dump();
        lost += missing;
        // The verdict names the subscriber and its loss.
        EXPECT_NE(out.find(fmt::format("failed: {} (independent): missing {}",
                                       c.at("reports").get<std::string>(), missing)),
                  std::string::npos)
            << out;
    }
    EXPECT_EQ(report.at("missing"), lost);
    EXPECT_EQ(report.at("unique").get<std::uint64_t>() + lost, 50000u);
}

TEST(SubscriberFleet, EachSubscriberOfATopicTemplateIsVerifiedOnWhatItsFilterMatches) {
    // Device n publishes on sensors/n/data; subscriber k subscribes to sensors/k/#. Devices 11
    // and 12 publish where no subscriber listens: no one expects them.
    Broker broker;
    TempDir dir;
    const auto r = run_pair(
        broker, dir, {"-n", "1200", "-d", "12", "-t", "sensors/{n}/data"},
        {"--connections", "10", "-i", "tree", "-t", "sensors/{n}/#", "--idle-timeout", "20"});
    ASSERT_EQ(r.publisher_status, 0) << r.publisher_err;
    ASSERT_EQ(r.subscriber_status, 0) << r.subscriber_out;
    EXPECT_NE(r.subscriber_out.find("VERIFIED: 10 of 10 subscribers complete: 1000 deliveries of "
                                    "1000 expected (amplification 1.00), missing 0, duplicates 0"),
              std::string::npos)
        << r.subscriber_out;
    EXPECT_NE(r.subscriber_out.find("2 devices of the run publish on topics that no --topic "
                                    "filter matches: not expected by any subscriber"),
              std::string::npos)
        << r.subscriber_out;
    for (const auto& c : r.subscriber.at("consumers")) {
        EXPECT_EQ(c.at("unique"), 100) << c.dump();
        EXPECT_EQ(c.at("expected"), 100) << c.dump();
    }
    EXPECT_EQ(r.subscriber.at("devices").at("outside"), 2);
}

TEST(SubscriberFleet, ManySubscriptionsPerConnectionEachExpectWhatTheirFiltersMatch) {
    // 4 subscribers x 25 device topics each (sensors/sensor-0001/telemetry ... 0100) over 110
    // devices: subscriber k is verified on devices 25(k-1)+1 to 25k; 10 devices no one expects.
    Broker broker;
    TempDir dir;
    const auto r = run_pair(broker, dir, {"-n", "2200", "-d", "110"},
                            {"--connections", "4", "-i", "heavy", "--subscriptions-per-connection",
                             "25", "-t", "sensors/sensor-{s}/telemetry", "--idle-timeout", "20"});
    ASSERT_EQ(r.publisher_status, 0) << r.publisher_err;
    ASSERT_EQ(r.subscriber_status, 0) << r.subscriber_out;
    EXPECT_NE(r.subscriber_out.find("VERIFIED: 4 of 4 subscribers complete: 2000 deliveries of "
                                    "2000 expected (amplification 1.00)"),
              std::string::npos)
        << r.subscriber_out;
    EXPECT_NE(r.subscriber_err.find("sensors/sensor-0001/telemetry, "
                                    "sensors/sensor-0002/telemetry, "
                                    "sensors/sensor-0003/telemetry, ... (25 filters)"),
              std::string::npos)
        << "the first subscriber's line: its own first filters, then how many\n"
        << r.subscriber_err;
    for (const auto& c : r.subscriber.at("consumers")) EXPECT_EQ(c.at("unique"), 500) << c.dump();
    EXPECT_EQ(r.subscriber.at("devices").at("outside"), 10);
    EXPECT_EQ(r.subscriber.at("connections").at("subscribed"), 8)
        << "each subscriber's SUBSCRIBE of its 25 filters, and of the control topics";
}

TEST(SubscriberFleet, ASubscriberWhoseFilterMissesADeviceIsNotVerifiedOnIt) {
    // The filter covers devices 1 to 9 of 10 but device 10's topic is sensors/10/data, which
    // "sensors/1/#" does not match (no prefix match on levels): the lone subscriber of
    // sensors/+/data expects all ten, and gets them; one of sensors/1/# expects only device 1.
    Broker broker;
    TempDir dir;
    const auto r = run_pair(broker, dir, {"-n", "1000", "-d", "10", "-t", "sensors/{n}/data"},
                            {"-t", "sensors/1/#", "-t", "sensors/+/data", "--idle-timeout", "20"});
    ASSERT_EQ(r.subscriber_status, 0) << r.subscriber_out;
    EXPECT_EQ(r.subscriber.at("unique"), 1000);
    EXPECT_EQ(r.subscriber.at("devices").at("outside"), 0);
    TempDir one;
    const auto lone = run_pair(broker, one, {"-n", "1000", "-d", "10", "-t", "sensors/{n}/data"},
                               {"-t", "sensors/1/#", "--idle-timeout", "20"});
    ASSERT_EQ(lone.subscriber_status, 0) << lone.subscriber_out;
    EXPECT_EQ(lone.subscriber.at("unique"), 100);
    EXPECT_EQ(lone.subscriber.at("expected"), 100);
    EXPECT_EQ(lone.subscriber.at("devices").at("outside"), 9);
}

TEST(SubscriberFleet, FlagsThatKeepOneSubscribersDataAreRefused) {
    TempDir dir;
    for (const std::vector<std::string>& extra :
         {std::vector<std::string>{"--store", "sqlite:" + (dir / "s.db").string()},
          std::vector<std::string>{"--client", "libmosquitto"},
          std::vector<std::string>{"--csv", (dir / "t.csv").string()}}) {
        std::vector<std::string> cmd{subscriber_path(), "-p", "1", "--connections", "2"};
        cmd.insert(cmd.end(), extra.begin(), extra.end());
        const auto r = run(cmd, dir.path());
        EXPECT_EQ(r.status, 2) << r.err;
        EXPECT_NE(r.err.find("--connections"), std::string::npos) << r.err;
    }
}

}  // namespace
}  // namespace harness

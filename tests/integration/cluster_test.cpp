// A run spread over several processes and brokers and verified as one run: publisher shards
// (--shard I/N), a cluster of two bridged Mosquittos (--host lists), consumer groups
// (--share-group) and mqtt_report's merged verdict.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

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
    EXPECT_EQ(
        report.at("devices"),
        (nlohmann::json{
            {"known", 20}, {"seen", 20}, {"complete", 20}, {"with_loss", 0}, {"outside", 0}}));
    EXPECT_EQ(report.at("summaries").size(), 2U);
    EXPECT_TRUE(report.at("verified").get<bool>());
}

std::string report_path() {
    return MQTT_REPORT_PATH;
}

// A share-group member on `port`, its report in dir/<name>.json and its state in dir/<name>.
std::unique_ptr<ChildProcess> start_member(const std::string& port, const TempDir& dir,
                                           const std::string& name) {
    auto member = std::make_unique<ChildProcess>(
        std::vector<std::string>{subscriber_path(), "-p", port, "--share-group", "g", "-i", name,
                                 "--state-dir", (dir / name).string(), "--report",
                                 (dir / (name + ".json")).string(), "--progress-every", "1000"},
        dir / (name + ".out"), dir / (name + ".err"));
    if (!wait_for_text(dir / (name + ".err"), "(ready)", 20s))
        ADD_FAILURE() << name << " never became ready: " << read_file(dir / (name + ".err"));
    return member;
}

TEST(Cluster, ShardsOnTwoBridgedBrokersAndASharedConsumerGroupGiveOneExactVerdict) {
    Broker a;
    Broker b(bridged_to(a.port()));
    TempDir dir;
    // The group's members share one node: each broker of a bridge would deliver its own copy
    // to a group subscribed there.
    auto m1 = start_member(b.port_str(), dir, "m1");
    auto m2 = start_member(b.port_str(), dir, "m2");
    const auto shard = [&](const std::string& which, const Broker& broker) {
        return std::make_unique<ChildProcess>(
            std::vector<std::string>{publisher_path(), "-p", broker.port_str(), "--run-id",
                                     "cluster", "-d", "20", "-n", "30000", "-r", "6000", "--shard",
                                     which, "--report",
                                     (dir / ("pub-" + which.substr(0, 1) + ".json")).string()},
            dir / ("pub-" + which.substr(0, 1) + ".out"),
            dir / ("pub-" + which.substr(0, 1) + ".err"));
    };
    auto p1 = shard("1/2", a);  // through the bridge
    auto p2 = shard("2/2", b);
    // A member killed mid-run and started again with its session and state loses nothing.
    ASSERT_TRUE(wait_for_count(dir / "m1.err", "received ", 3000, 30s))
        << read_file(dir / "m1.err");
    m1->signal(SIGKILL);
    ASSERT_EQ(m1->wait(10s), 128 + SIGKILL);
    std::this_thread::sleep_for(500ms);
    m1 = start_member(b.port_str(), dir, "m1");
    ASSERT_EQ(p1->wait(120s), 0) << read_file(dir / "pub-1.err");
    ASSERT_EQ(p2->wait(120s), 0) << read_file(dir / "pub-2.err");
    ASSERT_EQ(m1->wait(60s), 0) << read_file(dir / "m1.err") << read_file(dir / "m1.out");
    ASSERT_EQ(m2->wait(60s), 0) << read_file(dir / "m2.err") << read_file(dir / "m2.out");
    EXPECT_NE(read_file(dir / "m1.err").find("resuming from"), std::string::npos);
    EXPECT_NE(read_file(dir / "m2.out").find("SHARE VERIFIED: member of share group g"),
              std::string::npos)
        << read_file(dir / "m2.out");
    const nlohmann::json m1_report = read_json(dir / "m1.json");
    const nlohmann::json m2_report = read_json(dir / "m2.json");
    EXPECT_GT(m1_report.at("unique").get<int>(), 0);
    EXPECT_GT(m2_report.at("unique").get<int>(), 0);
    EXPECT_LT(m2_report.at("unique").get<int>(), 30000) << "the group split the messages";

    const RunResult merged =
        run({report_path(), "--publisher", (dir / "pub-1.json").string(), "--publisher",
             (dir / "pub-2.json").string(), "--subscriber", (dir / "m1.json").string(),
             "--subscriber", (dir / "m2.json").string(), "--json", (dir / "merged.json").string(),
             "-o", (dir / "merged.html").string()},
            dir.path());
    ASSERT_EQ(merged.status, 0) << merged.out << merged.err;
    EXPECT_NE(merged.out.find("mqtt_report: VERIFIED: 2 publisher and 2 subscriber reports"),
              std::string::npos)
        << merged.out;
    const nlohmann::json doc = read_json(dir / "merged.json");
    const nlohmann::json& sub = doc.at("subscriber");
    EXPECT_EQ(sub.at("unique"), 30000);
    EXPECT_EQ(sub.at("expected"), 30000);
    EXPECT_EQ(sub.at("missing"), 0);
    EXPECT_EQ(sub.at("received").get<std::uint64_t>(),
              30000 + sub.at("duplicates").get<std::uint64_t>());
    EXPECT_EQ(sub.at("devices").at("complete"), 20);
    EXPECT_EQ(doc.at("publisher").at("confirmed"), 30000);
    EXPECT_EQ(doc.at("publisher").at("members").size(), 2U);
    EXPECT_TRUE(doc.at("verified").get<bool>());
    EXPECT_NE(read_file(dir / "merged.html").find("id=\"members\""), std::string::npos);

    // One member's report alone is not the run's verdict: the other member's share is missing.
    const RunResult alone = run({report_path(), "--subscriber", (dir / "m2.json").string(),
                                 "--json", (dir / "alone.json").string()},
                                dir.path());
    EXPECT_EQ(alone.status, 1) << alone.out << alone.err;
    EXPECT_EQ(read_json(dir / "alone.json").at("subscriber").at("missing"),
              30000 - m2_report.at("unique").get<int>());

    // Without one member's report the merged verdict sees the loss, exactly.
    const RunResult partial =
        run({report_path(), "--subscriber", (dir / "m2.json").string(), "--subscriber",
             (dir / "m2.json").string(), "--json", (dir / "partial.json").string()},
            dir.path());
    EXPECT_EQ(partial.status, 1) << partial.out << partial.err;
    const nlohmann::json twice = read_json(dir / "partial.json").at("subscriber");
    EXPECT_EQ(twice.at("missing"), 30000 - m2_report.at("unique").get<int>());
    EXPECT_EQ(twice.at("duplicates").get<std::uint64_t>(),
              2 * m2_report.at("duplicates").get<std::uint64_t>() +
                  m2_report.at("unique").get<std::uint64_t>())
        << "the same member twice: every message of it is a duplicate";
}

TEST(Cluster, APublisherWhoseNodeStopsContinuesOnTheOtherNodeAndNothingIsLost) {
    Broker a;
    Broker b(bridged_to(a.port()));
    TempDir dir;
    auto sub = start_subscriber(b.port_str(), dir, {});
    ChildProcess pub(
        {publisher_path(), "-h", "127.0.0.1:" + a.port_str() + ",127.0.0.1:" + b.port_str(), "-n",
         "20000", "-r", "4000", "--give-up-after", "30", "--report", (dir / "pub.json").string()},
        dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_count(dir / "pub.err", "confirmed ", 4000, 30s))
        << read_file(dir / "pub.err");
    a.stop();  // what it had not yet passed over the bridge waits in its persistence
    ASSERT_TRUE(wait_for_text(dir / "pub.err", "reconnected", 30s)) << read_file(dir / "pub.err");
    std::this_thread::sleep_for(1s);
    a.start_again();
    ASSERT_EQ(pub.wait(120s), 0) << read_file(dir / "pub.err");
    ASSERT_EQ(sub->wait(120s), 0) << read_file(dir / "sub.out") << read_file(dir / "sub.err");
    const nlohmann::json p = read_json(dir / "pub.json");
    EXPECT_EQ(p.at("confirmed"), 20000);
    ASSERT_EQ(p.at("reconnects").size(), 1U);
    const nlohmann::json s = read_json(dir / "sub.json");
    EXPECT_EQ(s.at("unique"), 20000);
    EXPECT_EQ(s.at("missing"), 0);
    EXPECT_TRUE(s.at("verified").get<bool>());
}

TEST(Cluster, AFleetOverAHostListPutsEveryOtherDeviceOnEachNode) {
    Broker a;
    Broker b(bridged_to(a.port()));
    TempDir dir;
    auto sub = start_subscriber(b.port_str(), dir, {});
    const RunResult pub =
        run({publisher_path(), "-h", "127.0.0.1:" + a.port_str() + ",127.0.0.1:" + b.port_str(),
             "-d", "6", "-n", "60", "--connections", "per-device", "--interval", "50", "--report",
             (dir / "pub.json").string()},
            dir.path());
    ASSERT_EQ(pub.status, 0) << pub.err;
    ASSERT_EQ(sub->wait(60s), 0) << read_file(dir / "sub.out") << read_file(dir / "sub.err");
    EXPECT_EQ(read_json(dir / "sub.json").at("unique"), 60);
    // Mosquitto logs each connection's client id: devices 1, 3, 5 on A, 2, 4, 6 on B.
    const std::string log_a = read_file(a.dir() / "mosquitto.log");
    const std::string log_b = read_file(b.dir() / "mosquitto.log");
    for (int n = 1; n <= 6; ++n) {
        const std::string id = " as sensor-000" + std::to_string(n) + " ";
        EXPECT_EQ(log_a.find(id) != std::string::npos, n % 2 == 1) << id << log_a;
        EXPECT_EQ(log_b.find(id) != std::string::npos, n % 2 == 0) << id << log_b;
    }
}

}  // namespace
}  // namespace harness
namespace harness {
namespace {

// A shard as a Kubernetes Indexed Job runs it: its index and the run id in the environment.
std::unique_ptr<ChildProcess> indexed_shard(const Broker& broker, const TempDir& dir, int index,
                                            const std::vector<std::string>& extra,
                                            const std::string& shards = "auto/2",
                                            const std::string& count = "6000") {
    const std::string name = "shard-" + std::to_string(index);
    std::vector<std::string> argv{"/usr/bin/env",
                                  "JOB_COMPLETION_INDEX=" + std::to_string(index),
                                  "MQTT_TELEMETRY_RUN_ID=job-1",
                                  publisher_path(),
                                  "-p",
                                  broker.port_str(),
                                  "-d",
                                  "10",
                                  "-n",
                                  count,
                                  "-r",
                                  "3000",
                                  "--shard",
                                  shards,
                                  "--report",
                                  (dir / (name + ".json")).string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<ChildProcess>(argv, dir / (name + ".out"), dir / (name + ".err"));
}

TEST(Shards, IndexedJobShardsWaitForTheStartTheConsumerAnnouncesAndVerifyAsOneRun) {
    Broker broker;
    TempDir dir;
    // The shards come first, as pods may: they wait for the consumer's start.
    auto s0 = indexed_shard(broker, dir, 0, {"--wait-for-start", "60"});
    auto s1 = indexed_shard(broker, dir, 1, {"--wait-for-start", "60"});
    ASSERT_TRUE(
        wait_for_text(dir / "shard-1.err", "waiting up to 60 s for the start of run job-1", 20s))
        << read_file(dir / "shard-1.err");
    ChildProcess sub(
        {subscriber_path(), "-p", broker.port_str(), "--announce-start", "2", "--start-run",
         "job-1", "--start-delay", "0", "--report", (dir / "sub.json").string()},
        dir / "sub.out", dir / "sub.err");
    ASSERT_EQ(s0->wait(60s), 0) << read_file(dir / "shard-0.err");
    ASSERT_EQ(s1->wait(60s), 0) << read_file(dir / "shard-1.err");
    ASSERT_EQ(sub.wait(60s), 0) << read_file(dir / "sub.out") << read_file(dir / "sub.err");
    for (const char* shard : {"shard-0.err", "shard-1.err"})
        EXPECT_NE(read_file(dir / shard).find("run job-1 of 2 shards begins in"), std::string::npos)
            << read_file(dir / shard);
    EXPECT_NE(read_file(dir / "sub.err").find("announced the start of run job-1 for 2 shards"),
              std::string::npos);
    const auto s = read_json(dir / "sub.json");
    EXPECT_EQ(s.at("unique"), 6000);
    EXPECT_EQ(s.at("missing"), 0);
    EXPECT_TRUE(s.at("verified").get<bool>());
    EXPECT_EQ(read_json(dir / "shard-1.json").at("shard"), nlohmann::json::array({2, 2}));
    // A shard that replaces a failed one finds the start retained and begins at once; a run
    // whose start names other shards is a usage error; one whose start never comes, exit 3.
    auto again = indexed_shard(broker, dir, 1, {"--wait-for-start", "5"}, "auto/2", "20");
    EXPECT_EQ(again->wait(60s), 0) << read_file(dir / "shard-1.err");
    auto other = indexed_shard(broker, dir, 0, {"--wait-for-start", "5"}, "auto/3");
    EXPECT_EQ(other->wait(60s), 2) << read_file(dir / "shard-0.err");
    EXPECT_NE(read_file(dir / "shard-0.err")
                  .find("the start of run job-1 is for 2 shards, this "
                        "is shard 1/3"),
              std::string::npos)
        << read_file(dir / "shard-0.err");
}

TEST(Shards, AShardWhoseStartNeverComesSaysSoAndExitsThree) {
    Broker broker;
    TempDir dir;
    auto shard = indexed_shard(broker, dir, 0, {"--wait-for-start", "1"});
    EXPECT_EQ(shard->wait(60s), 3);
    EXPECT_NE(read_file(dir / "shard-0.err")
                  .find("no start for run job-1 on telemetry/run-start/job-1 within "
                        "--wait-for-start 1 s"),
              std::string::npos)
        << read_file(dir / "shard-0.err");
    EXPECT_EQ(read_json(dir / "shard-0.json").at("end_reason"), "no-start");
}

}  // namespace
}  // namespace harness

// What a Kubernetes Indexed Job of publisher shards runs (deploy/kubernetes), here as processes:
// N pods with JOB_COMPLETION_INDEX and the run id in their environment, each waiting for the
// start a consumer announces; a consumer group of two with their own state directories; two
// bridged Mosquittos; one shard killed mid-run and replaced by a pod with the same index and
// the same per-index state directory; and the final mqtt_report whose exit status is the run's
// verdict.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "harness.hpp"

namespace harness {
namespace {

constexpr int kShards = 4;
const std::string kRun = "job-k8s";

std::unique_ptr<ChildProcess> consumer(const Broker& node, const TempDir& dir,
                                       const std::string& name,
                                       const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{subscriber_path(),
                                  "-p",
                                  node.port_str(),
                                  "--share-group",
                                  "g",
                                  "-i",
                                  name,
                                  "--state-dir",
                                  (dir / name).string(),
                                  "--report",
                                  (dir / (name + ".json")).string(),
                                  "--progress-every",
                                  "2000"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto c = std::make_unique<ChildProcess>(argv, dir / (name + ".out"), dir / (name + ".err"));
    if (!wait_for_text(dir / (name + ".err"), "(ready)", 30s))
        ADD_FAILURE() << name << " never became ready: " << read_file(dir / (name + ".err"));
    return c;
}

// The pod of completion index `index`: 20,000 devices in all, 5,000 each, 4 readings each.
std::unique_ptr<ChildProcess> pod(const Broker& node, const TempDir& dir, int index) {
    const std::string name = "shard-" + std::to_string(index);
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{"/usr/bin/env",
                                 "JOB_COMPLETION_INDEX=" + std::to_string(index),
                                 "MQTT_TELEMETRY_RUN_ID=" + kRun,
                                 publisher_path(),
                                 "-p",
                                 node.port_str(),
                                 "-d",
                                 "20000",
                                 "-n",
                                 "80000",
                                 "-r",
                                 "16000",
                                 "--shard",
                                 "auto/" + std::to_string(kShards),
                                 "--wait-for-start",
                                 "60",
                                 "--state-dir",
                                 (dir / ("volume-" + std::to_string(index))).string(),
                                 "--progress-every",
                                 "2000",
                                 "--report",
                                 (dir / (name + ".json")).string()},
        dir / (name + ".out"), dir / (name + ".err"));
}

TEST(IndexedJob, FourShardsAndTwoConsumersVerifyAsOneRunThroughAShardKilledAndReplaced) {
    Broker a;
    Broker b(bridged_to(a.port()));
    TempDir dir;
    // The group's members share one node (each node of a bridge delivers its own copy to a
    // group subscribed there); the first announces the start once it listens.
    auto m1 = consumer(
        b, dir, "m1",
        {"--announce-start", std::to_string(kShards), "--start-run", kRun, "--start-delay", "1"});
    auto m2 = consumer(b, dir, "m2");
    std::vector<std::unique_ptr<ChildProcess>> pods;
    for (int i = 0; i < kShards; ++i) pods.push_back(pod(i % 2 == 0 ? a : b, dir, i));
    // Index 2 dies mid-run (an evicted pod); the Job starts its replacement with the same
    // index and volume, which resumes the shard from its state.
    ASSERT_TRUE(wait_for_count(dir / "shard-2.err", "sent ", 6000, 60s))
        << read_file(dir / "shard-2.err");
    pods[2]->signal(SIGKILL);
    ASSERT_EQ(pods[2]->wait(10s), 128 + SIGKILL);
    pods[2] = pod(a, dir, 2);
    for (int i = 0; i < kShards; ++i)
        ASSERT_EQ(pods[i]->wait(120s), 0)
            << read_file(dir / ("shard-" + std::to_string(i) + ".err"));
    EXPECT_NE(read_file(dir / "shard-2.err").find("resuming run job-k8s after message"),
              std::string::npos)
        << read_file(dir / "shard-2.err");
    ASSERT_EQ(m1->wait(60s), 0) << read_file(dir / "m1.err") << read_file(dir / "m1.out");
    ASSERT_EQ(m2->wait(60s), 0) << read_file(dir / "m2.err") << read_file(dir / "m2.out");

    // The Job's last step: one verdict over every pod's report.
    std::vector<std::string> argv{MQTT_REPORT_PATH};
    for (int i = 0; i < kShards; ++i)
        argv.insert(argv.end(),
                    {"--publisher", (dir / ("shard-" + std::to_string(i) + ".json")).string()});
    argv.insert(argv.end(), {"--subscriber", (dir / "m1.json").string(), "--subscriber",
                             (dir / "m2.json").string(), "--json", (dir / "run.json").string()});
    const RunResult verdict = run(argv, dir.path());
    ASSERT_EQ(verdict.status, 0) << verdict.out << verdict.err;
    const nlohmann::json doc = read_json(dir / "run.json");
    const nlohmann::json& sub = doc.at("subscriber");
    EXPECT_EQ(sub.at("unique"), 80000);
    EXPECT_EQ(sub.at("expected"), 80000);
    EXPECT_EQ(sub.at("missing"), 0);
    EXPECT_EQ(sub.at("devices").at("complete"), 20000);
    EXPECT_EQ(doc.at("publisher").at("members").size(), 4U);
    EXPECT_EQ(sub.at("summaries"), nlohmann::json::array({kRun})) << "one run";
}

}  // namespace
}  // namespace harness

// What a Kubernetes Indexed Job of publisher shards runs (deploy/kubernetes), here as processes:
// N pods with JOB_COMPLETION_INDEX and the run id in their environment, each waiting for the
// start a consumer announces; a consumer group of two with their own state directories; two
// bridged Mosquittos; one shard killed mid-run and replaced by a pod with the same index and
// the same per-index state directory; and the final mqtt_report whose exit status is the run's
// verdict.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
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
        b, dir, "telemetry-consumers-0",
        {"--announce-start", std::to_string(kShards), "--start-run", kRun, "--start-delay", "1"});
    auto m2 = consumer(b, dir, "telemetry-consumers-1");
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
    for (const auto* m : {&m1, &m2}) ASSERT_EQ((*m)->wait(60s), 0);

    // The Job's last step, the verdict Job's own shell command from deploy/kubernetes: it waits
    // for every pod's status file (as the pods' commands write them), then one mqtt_report.
    fs::create_directories(dir / "pod/reports");
    for (const std::string name : {"shard-0", "shard-1", "shard-2", "shard-3",
                                   "telemetry-consumers-0", "telemetry-consumers-1"}) {
        ASSERT_TRUE(fs::exists(dir / (name + ".json"))) << name;
        fs::copy_file(dir / (name + ".json"), dir / "pod/reports" / (name + ".json"));
        std::ofstream(dir / "pod/reports" / (name + ".status")) << "0\n";
    }
    const RunResult command =
        run({"/usr/bin/python3", (project_dir() / "tests/deploy_manifests.py").string(),
             "--pod-command", (project_dir() / "deploy/kubernetes").string(),
             "Job/telemetry-verdict", (dir / "pod").string()},
            dir.path());
    ASSERT_EQ(command.status, 0) << command.err;
    const std::string bin = fs::path(subscriber_path()).parent_path().string();
    const RunResult verdict =
        run({"/usr/bin/env", "PATH=" + bin + ":/usr/bin:/bin", "/bin/sh", "-c", command.out},
            dir.path());
    ASSERT_EQ(verdict.status, 0) << command.out << verdict.out << verdict.err;
    EXPECT_NE(verdict.out.find("mqtt_report: VERIFIED: 4 publisher and 2 subscriber reports"),
              std::string::npos)
        << verdict.out;
    const nlohmann::json doc = read_json(dir / "pod/reports/run.json");
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

// What the Kubernetes manifests (deploy/kubernetes/base) run, here as processes: each pod's own
// shell command and environment from the manifests (tests/deploy_manifests.py --pod resolves
// their $(VARs) and moves their volumes under a folder), with what Kubernetes would set
// (JOB_COMPLETION_INDEX, POD_NAME) and two bridged Mosquittos as BROKERS. The consumer group of
// two announces the start; four shards wait for it; shard 3's publisher is killed mid-run and
// the Job's replacement pod (same index, same state volume) resumes it; the verdict Job's
// command judges every pod's report.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <thread>

#include "harness.hpp"

namespace harness {
namespace {

constexpr int kShards = 4;  // as the base's SHARDS

// A pod of `workload` (KIND/NAME): its manifest's command in a shell, its environment, and
// `overrides` (VAR=VALUE); its volumes under `root`. Output in `name`.out and .err.
std::unique_ptr<ChildProcess> pod(const TempDir& dir, const std::string& workload,
                                  const fs::path& root, const std::vector<std::string>& overrides,
                                  const std::string& name) {
    std::vector<std::string> query{"/usr/bin/python3",
                                   (project_dir() / "tests/deploy_manifests.py").string(),
                                   "--pod",
                                   (project_dir() / "deploy/kubernetes").string(),
                                   workload,
                                   root.string()};
    query.insert(query.end(), overrides.begin(), overrides.end());
    const RunResult resolved = run(query, dir.path());
    if (resolved.status != 0) throw std::runtime_error("deploy_manifests.py: " + resolved.err);
    const nlohmann::json spec = nlohmann::json::parse(resolved.out);
    const std::string bin = fs::path(subscriber_path()).parent_path().string();
    std::vector<std::string> argv{"/usr/bin/env", "-i", "PATH=" + bin + ":/usr/bin:/bin"};
    for (const auto& [key, value] : spec.at("env").items())
        argv.push_back(key + "=" + value.get<std::string>());
    argv.insert(argv.end(), {"/bin/sh", "-c", spec.at("command").get<std::string>()});
    return std::make_unique<ChildProcess>(argv, dir / (name + ".out"), dir / (name + ".err"));
}

std::string broker_at(const Broker& node) {
    return "BROKERS=127.0.0.1:" + node.port_str();
}

std::unique_ptr<ChildProcess> consumer(const TempDir& dir, const Broker& node, int ordinal) {
    const std::string name = "telemetry-consumers-" + std::to_string(ordinal);
    // Its own data volume; the reports volume shared with every pod.
    const fs::path root = dir / name;
    fs::create_directories(root / "data");
    fs::create_directory_symlink(dir / "job/reports", root / "reports");
    auto c = pod(
        dir, "StatefulSet/telemetry-consumers", root,
        {broker_at(node), "POD_NAME=" + name, "METRICS_PORT=" + std::to_string(free_port())}, name);
    if (!wait_for_text(dir / (name + ".err"), "(ready)", 30s))
        ADD_FAILURE() << name << " never became ready: " << read_file(dir / (name + ".err"));
    return c;
}

std::unique_ptr<ChildProcess> shard(const TempDir& dir, const Broker& node, int index) {
    return pod(dir, "Job/telemetry-shards", dir / "job",
               {broker_at(node), "JOB_COMPLETION_INDEX=" + std::to_string(index),
                "METRICS_PORT=" + std::to_string(free_port())},
               "shard-" + std::to_string(index));
}

// The publisher the pod's shell started (its only child), killed as a crashed container is.
void kill_the_pods_publisher(ChildProcess& pod) {
    const std::string children = read_file("/proc/" + std::to_string(pod.pid()) + "/task/" +
                                           std::to_string(pod.pid()) + "/children");
    ASSERT_FALSE(children.empty()) << "the pod's shell has no child";
    ASSERT_EQ(::kill(std::stoi(children), SIGKILL), 0);
}

TEST(IndexedJob, FourShardsAndTwoConsumersVerifyAsOneRunThroughAShardKilledAndReplaced) {
    Broker a;
    Broker b(bridged_to(a.port()));
    TempDir dir;
    fs::create_directories(dir / "job/reports");
    fs::create_directories(dir / "job/state");
    // The group's members share one node (each node of a bridge delivers its own copy to a
    // group subscribed there); the first announces the start, the second finds it retained.
    auto c0 = consumer(dir, b, 0);
    auto c1 = consumer(dir, b, 1);
    std::vector<std::unique_ptr<ChildProcess>> pods;
    for (int i = 0; i < kShards; ++i) pods.push_back(shard(dir, i % 2 == 0 ? a : b, i));
    // Index 2's publisher dies 2 s into its 5 s of sending; its pod fails (137, no status
    // file), and the Job starts a replacement with the same index and state volume.
    ASSERT_TRUE(wait_for_text(dir / "shard-2.err", "begins in", 60s))
        << read_file(dir / "shard-2.err");
    const std::string err = read_file(dir / "shard-2.err");
    const double begins_in = std::stod(err.substr(err.find("begins in ") + 10));
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(begins_in * 1000)) + 2s);
    kill_the_pods_publisher(*pods[2]);
    ASSERT_EQ(pods[2]->wait(10s), 128 + SIGKILL);
    EXPECT_FALSE(fs::exists(dir / "job/reports/shard-2.status")) << "not ended for good";
    pods[2] = shard(dir, a, 2);
    for (int i = 0; i < kShards; ++i)
        ASSERT_EQ(pods[i]->wait(120s), 0)
            << read_file(dir / ("shard-" + std::to_string(i) + ".err"));
    EXPECT_NE(read_file(dir / "shard-2.err").find("resuming run run-1 after message"),
              std::string::npos)
        << read_file(dir / "shard-2.err");
    // A consumer's pod writes its status, then sleeps rather than start the run again.
    for (const char* status : {"telemetry-consumers-0.status", "telemetry-consumers-1.status"}) {
        ASSERT_TRUE(wait_for_text(dir / "job/reports" / status, "0", 60s)) << status;
    }
    c0->signal(SIGKILL);
    c1->signal(SIGKILL);

    // The verdict Job's pod: it waits for every status file, then judges all the reports.
    auto verdict = pod(dir, "Job/telemetry-verdict", dir / "job", {}, "verdict");
    ASSERT_EQ(verdict->wait(120s), 0)
        << read_file(dir / "verdict.out") << read_file(dir / "verdict.err");
    EXPECT_NE(read_file(dir / "verdict.out")
                  .find("mqtt_report: VERIFIED: 4 publisher and 2 subscriber reports"),
              std::string::npos)
        << read_file(dir / "verdict.out");
    const nlohmann::json doc = read_json(dir / "job/reports/run.json");
    const nlohmann::json& sub = doc.at("subscriber");
    EXPECT_EQ(sub.at("unique"), 80000);
    EXPECT_EQ(sub.at("expected"), 80000);
    EXPECT_EQ(sub.at("missing"), 0);
    EXPECT_EQ(sub.at("devices").at("complete"), 20000);
    EXPECT_EQ(doc.at("publisher").at("members").size(), 4U);
    EXPECT_EQ(sub.at("summaries"), nlohmann::json::array({"run-1"})) << "one run";
}

}  // namespace
}  // namespace harness

// Against RabbitMQ (Debian's rabbitmq-server with the rabbitmq_mqtt plugin) started by the test
// on free loopback ports: a two-node cluster with publishers on one node and the subscriber on
// the other, MQTT 3.1.1 found by the engine's fallback (RabbitMQ 3.10 drops an MQTT 5
// CONNECT); and one node's rabbitmq_web_mqtt plugin, MQTT over WebSocket and secure WebSocket
// from a second broker implementation. Without rabbitmq-server the tests are skipped and say
// how to install it.

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <thread>
#include <tuple>

#include "certificates.hpp"
#include "harness.hpp"

namespace harness {
namespace {

const fs::path kRabbitBin = "/usr/lib/rabbitmq/bin";

// One RabbitMQ node as our own child: ports, data and logs in the test's folder. Both nodes
// share a private epmd (also our child, so nothing is left behind as an orphan) and cookie.
// Its Web-MQTT listeners (rabbitmq_web_mqtt, path /ws): plain, and TLS with these PEM files.
struct WebMqtt {
    std::string certificate, key, ca;
};

class RabbitNode {
  public:
    RabbitNode(const fs::path& dir, const std::string& name, std::uint16_t epmd_port,
               std::optional<WebMqtt> web = std::nullopt)
        : dir_(dir / name),
          name_(name + "@localhost"),
          epmd_port_(epmd_port),
          mqtt_port_(free_port()),
          amqp_port_(free_port()),
          dist_port_(free_port()) {
        fs::create_directories(dir_ / "mnesia");
        fs::create_directories(dir_ / "log");
        std::ofstream(dir_ / "rabbitmq.conf")
            << "listeners.tcp.default = 127.0.0.1:" << amqp_port_ << "\n"
            << "mqtt.listeners.tcp.default = 127.0.0.1:" << mqtt_port_ << "\n"
            << "mqtt.allow_anonymous = true\n"
            << "loopback_users = none\n";
        if (web) {
            ws_port_ = free_port();
            wss_port_ = free_port();
            std::ofstream(dir_ / "rabbitmq.conf", std::ios::app)
                << "web_mqtt.tcp.ip = 127.0.0.1\nweb_mqtt.tcp.port = " << ws_port_ << "\n"
                << "web_mqtt.ssl.ip = 127.0.0.1\nweb_mqtt.ssl.port = " << wss_port_ << "\n"
                << "web_mqtt.ssl.certfile = " << web->certificate << "\n"
                << "web_mqtt.ssl.keyfile = " << web->key << "\n"
                << "web_mqtt.ssl.cacertfile = " << web->ca << "\n";
        }
        std::ofstream(dir_ / "enabled_plugins")
            << (web ? "[rabbitmq_mqtt,rabbitmq_web_mqtt].\n" : "[rabbitmq_mqtt].\n");
        process_.emplace(command({(kRabbitBin / "rabbitmq-server").string()}), dir_ / "server.out",
                         dir_ / "server.err");
    }
    ~RabbitNode() {
        if (!process_) return;
        ctl({"stop"});  // the node and its Erlang VM end cleanly
        if (!process_->wait(30s)) process_->signal(SIGKILL);
        process_->wait(10s);
    }
    RabbitNode(const RabbitNode&) = delete;  // owns the node's process
    RabbitNode& operator=(const RabbitNode&) = delete;

    std::uint16_t mqtt_port() const { return mqtt_port_; }
    std::uint16_t ws_port() const { return ws_port_; }
    std::uint16_t wss_port() const { return wss_port_; }
    const std::string& name() const { return name_; }

    // Waits until the node's MQTT listener accepts connections.
    bool wait_ready(std::chrono::seconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!port_accepts(mqtt_port_) || (ws_port_ && !port_accepts(ws_port_))) {
            if (!process_->running() || std::chrono::steady_clock::now() > deadline) return false;
            std::this_thread::sleep_for(200ms);
        }
        return true;
    }

    RunResult ctl(const std::vector<std::string>& args) const {
        std::vector<std::string> argv{(kRabbitBin / "rabbitmqctl").string(), "-n", name_};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(command(argv), dir_, 120s);
    }

    std::string log() const {
        std::string text = read_file(dir_ / "server.out") + read_file(dir_ / "server.err");
        for (const auto& entry : fs::directory_iterator(dir_ / "log"))
            text += read_file(entry.path());
        return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
    }

  private:
    std::vector<std::string> command(const std::vector<std::string>& argv) const {
        const fs::path home = dir_.parent_path() / "home";
        std::vector<std::string> cmd{
            "/usr/bin/env",
            "HOME=" + home.string(),
            "ERL_EPMD_PORT=" + std::to_string(epmd_port_),
            "RABBITMQ_NODENAME=" + name_,
            "RABBITMQ_NODE_PORT=" + std::to_string(amqp_port_),
            "RABBITMQ_DIST_PORT=" + std::to_string(dist_port_),
            "RABBITMQ_CONFIG_FILE=" + (dir_ / "rabbitmq").string(),
            "RABBITMQ_ENABLED_PLUGINS_FILE=" + (dir_ / "enabled_plugins").string(),
            "RABBITMQ_MNESIA_BASE=" + (dir_ / "mnesia").string(),
            "RABBITMQ_LOG_BASE=" + (dir_ / "log").string(),
            "RABBITMQ_PID_FILE=" + (dir_ / "pid").string()};
        cmd.insert(cmd.end(), argv.begin(), argv.end());
        return cmd;
    }

    fs::path dir_;
    std::string name_;
    std::uint16_t epmd_port_, mqtt_port_, amqp_port_, dist_port_;
    std::uint16_t ws_port_{0}, wss_port_{0};
    std::optional<ChildProcess> process_;
};

class RabbitCluster {
  public:
    // Two nodes, or one with its Web-MQTT listeners.
    explicit RabbitCluster(const fs::path& dir, std::optional<WebMqtt> web = std::nullopt)
        : epmd_port_(free_port()) {
        fs::create_directories(dir / "home");
        {
            std::ofstream cookie(dir / "home" / ".erlang.cookie");
            cookie << "MQTTTELEMETRYTESTCOOKIE";
        }
        fs::permissions(dir / "home" / ".erlang.cookie", fs::perms::owner_read);
        epmd_.emplace(std::vector<std::string>{"/usr/bin/env", "HOME=" + (dir / "home").string(),
                                               "epmd", "-port", std::to_string(epmd_port_)},
                      dir / "epmd.out", dir / "epmd.err");
        // A node that finds no epmd starts one of its own, detached: an orphan nobody reaps.
        for (int i = 0; i < 100 && !port_accepts(epmd_port_); ++i)
            std::this_thread::sleep_for(50ms);
        first = std::make_unique<RabbitNode>(dir, "rabbit1", epmd_port_, web);
        if (!web) second = std::make_unique<RabbitNode>(dir, "rabbit2", epmd_port_);
    }
    ~RabbitCluster() {
        second.reset();
        first.reset();
        if (epmd_) epmd_->signal(SIGTERM);
    }
    RabbitCluster(const RabbitCluster&) = delete;  // owns the processes
    RabbitCluster& operator=(const RabbitCluster&) = delete;

    // The second node joins the first: from then on they share queues and routing.
    std::string join() const {
        for (const auto& args : std::vector<std::vector<std::string>>{
                 {"stop_app"}, {"join_cluster", first->name()}, {"start_app"}}) {
            const RunResult r = second->ctl(args);
            if (r.status != 0) return args[0] + ": " + r.out + r.err;
        }
        return "";
    }

    std::unique_ptr<RabbitNode> first, second;

  private:
    std::uint16_t epmd_port_;
    std::optional<ChildProcess> epmd_;
};

TEST(RabbitMQCluster, ShardsOnOneNodeAndTheSubscriberOnTheOtherVerifyExactlyOverMqtt311) {
    if (!fs::exists(kRabbitBin / "rabbitmq-server"))
        GTEST_SKIP() << "rabbitmq-server is not installed: scripts/deps --cluster installs it";
    TempDir dir;
    RabbitCluster cluster(dir.path());
    ASSERT_TRUE(cluster.first->wait_ready(120s)) << cluster.first->log();
    ASSERT_TRUE(cluster.second->wait_ready(120s)) << cluster.second->log();
    const std::string joined = cluster.join();
    ASSERT_EQ(joined, "") << cluster.second->log();
    ASSERT_TRUE(cluster.second->wait_ready(120s)) << cluster.second->log();
    const RunResult status = cluster.first->ctl({"cluster_status"});
    ASSERT_NE(status.out.find(cluster.second->name()), std::string::npos) << status.out;

    const std::string sub_port = std::to_string(cluster.second->mqtt_port());
    const std::string pub_port = std::to_string(cluster.first->mqtt_port());
    ChildProcess sub({subscriber_path(), "-p", sub_port, "-i", "rabbit-consumer", "--report",
                      (dir / "sub.json").string()},
                     dir / "sub.out", dir / "sub.err");
    ASSERT_TRUE(wait_for_text(dir / "sub.err", "(ready)", 60s)) << read_file(dir / "sub.err");
    EXPECT_NE(read_file(dir / "sub.err").find("MQTT 3.1.1 (the broker refused MQTT 5)"),
              std::string::npos)
        << read_file(dir / "sub.err");
    const auto shard = [&](const std::string& which) {
        return std::make_unique<ChildProcess>(
            std::vector<std::string>{publisher_path(), "-p", pub_port, "--run-id", "rabbit", "-d",
                                     "10", "-n", "10000", "--shard", which, "--report",
                                     (dir / ("pub-" + which.substr(0, 1) + ".json")).string()},
            dir / ("pub-" + which.substr(0, 1) + ".out"),
            dir / ("pub-" + which.substr(0, 1) + ".err"));
    };
    auto p1 = shard("1/2");
    auto p2 = shard("2/2");
    ASSERT_EQ(p1->wait(300s), 0) << read_file(dir / "pub-1.err");
    ASSERT_EQ(p2->wait(300s), 0) << read_file(dir / "pub-2.err");
    ASSERT_EQ(sub.wait(300s), 0) << read_file(dir / "sub.out") << read_file(dir / "sub.err");
    const nlohmann::json report = read_json(dir / "sub.json");
    EXPECT_EQ(report.at("unique"), 10000);
    EXPECT_EQ(report.at("expected"), 10000);
    EXPECT_EQ(report.at("missing"), 0);
    EXPECT_EQ(report.at("summaries").size(), 2U);
    EXPECT_TRUE(report.at("verified").get<bool>());
    const RunResult merged =
        run({MQTT_REPORT_PATH, "--publisher", (dir / "pub-1.json").string(), "--publisher",
             (dir / "pub-2.json").string(), "--subscriber", (dir / "sub.json").string(), "--json",
             (dir / "merged.json").string()},
            dir.path());
    EXPECT_EQ(merged.status, 0) << merged.out << merged.err;
}

TEST(RabbitMQWebMqtt, RunsOverWsAndWssToItsWebMqttPluginVerifyExactly) {
    if (!fs::exists(kRabbitBin / "rabbitmq-server"))
        GTEST_SKIP() << "rabbitmq-server is not installed: scripts/deps --cluster installs it";
    TempDir dir;
    ASSERT_NO_FATAL_FAILURE(make_test_certificates(dir.path()));
    RabbitCluster node(dir.path(),
                       WebMqtt{(dir / "server.crt").string(), (dir / "server.key").string(),
                               (dir / "ca.crt").string()});
    ASSERT_TRUE(node.first->wait_ready(120s)) << node.first->log();
    const std::string tcp = std::to_string(node.first->mqtt_port());
    const std::string ws = "ws://127.0.0.1:" + std::to_string(node.first->ws_port()) + "/ws";
    const std::string wss = "wss://127.0.0.1:" + std::to_string(node.first->wss_port()) + "/ws";
    const std::string ca = (dir / "ca.crt").string();
    // Over ws:// to a subscriber on plain MQTT, then over wss:// both ways.
    for (const auto& [pub_host, sub_host, count] :
         {std::tuple<std::string, std::string, std::string>{ws, "", "50000"},
          {wss, wss, "10000"}}) {
        // A session of its own each time: nothing queued for an earlier consumer carries over.
        std::vector<std::string> sub_cmd{subscriber_path(), "-i", "web-consumer-" + count,
                                         "--report", (dir / "sub.json").string()};
        if (sub_host.empty())
            sub_cmd.insert(sub_cmd.end(), {"-p", tcp});
        else
            sub_cmd.insert(sub_cmd.end(), {"-h", sub_host, "--cafile", ca});
        ChildProcess sub(sub_cmd, dir / "sub.out", dir / "sub.err");
        ASSERT_TRUE(wait_for_text(dir / "sub.err", "(ready)", 60s)) << read_file(dir / "sub.err");
        std::vector<std::string> pub_cmd{publisher_path(), "-h", pub_host, "-n", count};
        if (pub_host.rfind("wss", 0) == 0) pub_cmd.insert(pub_cmd.end(), {"--cafile", ca});
        const RunResult pub = run(pub_cmd, dir.path(), 300s);
        ASSERT_EQ(pub.status, 0) << pub.err;
        ASSERT_EQ(sub.wait(300s), 0) << read_file(dir / "sub.out") << read_file(dir / "sub.err");
        const nlohmann::json report = read_json(dir / "sub.json");
        EXPECT_EQ(report.at("unique"), std::stoi(count)) << pub_host;
        EXPECT_EQ(report.at("missing"), 0) << pub_host;
        EXPECT_TRUE(report.at("verified").get<bool>()) << pub_host;
    }
}

}  // namespace
}  // namespace harness

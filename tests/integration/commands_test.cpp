// Devices that take commands (mqtt_publisher --commands), driven by Mosquitto's own clients as
// an independent commander: each command is accepted and answered on its Response Topic with
// its Correlation Data (MQTT 5), or on the reply topic it names (MQTT 3.1.1); a redelivery is
// recognised by a deduplicating device and executed again by one that does not deduplicate.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness.hpp"

namespace {

using namespace std::chrono_literals;
using namespace harness;

std::string command_json(int id, const std::string& device, const std::string& reply_to) {
    return R"({"run":"c1","command":)" + std::to_string(id) + R"(,"device":")" + device +
           R"(","seq":)" + std::to_string(id) + R"(,"sent_us":1,"name":"apply","reply_to":")" +
           reply_to + R"("})";
}

// Sends one command with mosquitto_pub: MQTT 5 with a Response Topic and Correlation Data, or
// MQTT 3.1.1 with neither.
void send(const Broker& broker, const TempDir& dir, const std::string& topic,
          const std::string& payload, bool v5) {
    std::vector<std::string> args{
        "mosquitto_pub", "-p", broker.port_str(), "-q", "1", "-t", topic, "-m", payload};
    if (v5)
        args.insert(args.end(), {"-V", "5", "-D", "publish", "response-topic", "replies/t", "-D",
                                 "publish", "correlation-data", "corr-1"});
    const RunResult r = run(args, dir.path(), 20s);
    ASSERT_EQ(r.status, 0) << r.err;
}

// The answers mosquitto_sub printed, one per line: "correlation|payload".
std::vector<std::string> answers(const std::string& out) {
    std::vector<std::string> lines;
    std::size_t at = 0;
    while (at < out.size()) {
        const std::size_t end = out.find('\n', at);
        lines.push_back(out.substr(at, end - at));
        at = end == std::string::npos ? out.size() : end + 1;
    }
    return lines;
}

// `connections`: "1" (every device over one connection) or "per-device" (each its own, which
// subscribes to its own command topic).
void answered_by_devices(const std::string& dedupe, const std::string& connections) {
    Broker broker;
    TempDir dir;
    ChildProcess replies({"mosquitto_sub", "-p", broker.port_str(), "-V", "5", "-q", "1", "-t",
                          "replies/t", "-C", "6", "-W", "60", "-F", "%D|%p"},
                         dir / "replies.out", dir / "replies.err");
    ChildProcess devices(
        {publisher_path(), "-p", broker.port_str(), "-n", "600", "-r", "200", "-d", "3",
         "--commands", "--command-service-ms", "50", "--command-dedupe", dedupe, "--connections",
         connections, "--report", (dir / "pub.json").string()},
        dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_text(dir / "pub.err", "commands: each of 3 devices", 30s))
        << read_file(dir / "pub.err");
    const std::string command = command_json(1, "sensor-0002", "replies/t");
    send(broker, dir, "devices/sensor-0002/cmd", command, true);
    send(broker, dir, "devices/sensor-0002/cmd", command, true);  // as a redelivery would
    send(broker, dir, "devices/sensor-0003/cmd", command_json(2, "sensor-0003", "replies/t"),
         false);
    ASSERT_EQ(replies.wait(60s), 0) << read_file(dir / "replies.err");
    ASSERT_EQ(devices.wait(60s), 0) << read_file(dir / "pub.err");
    const std::vector<std::string> lines = answers(read_file(dir / "replies.out"));
    ASSERT_EQ(lines.size(), 6u) << read_file(dir / "replies.out");
    int accepted = 0, ok = 0, again = 0, correlated = 0;
    for (const std::string& l : lines) {
        accepted += l.find(R"("result":"accepted")") != std::string::npos;
        ok += l.find(R"("result":"ok")") != std::string::npos;
        again += l.find(R"("executions":2)") != std::string::npos;
        correlated += l.rfind("corr-1|", 0) == 0;
    }
    EXPECT_EQ(accepted, 3);
    EXPECT_EQ(ok, 3);
    EXPECT_EQ(correlated, 4) << "both MQTT 5 commands' answers carry their Correlation Data";
    const auto report = read_json(dir / "pub.json");
    const auto& counts = report.at("commands");
    EXPECT_EQ(counts.at("received"), 3);
    EXPECT_EQ(counts.at("answers_sent"), 6);
    if (dedupe == "on") {
        EXPECT_EQ(again, 0);
        EXPECT_EQ(counts.at("executed"), 2);
        EXPECT_EQ(counts.at("recognised"), 1);
    } else {
        EXPECT_EQ(again, 2) << "the redelivery's accepted and ok say executions 2";
        EXPECT_EQ(counts.at("executed_again"), 1);
    }
}

TEST(Commands, EachDeviceOnItsOwnConnectionAnswersItsCommandsAndRecognisesARedelivery) {
    answered_by_devices("on", "per-device");
}

TEST(Commands, ADeviceThatDoesNotDeduplicateExecutesARedeliveryAgainAndSaysSo) {
    answered_by_devices("off", "1");
}

// A fleet of `devices` that take commands for about `seconds`, and a commander sending `count`
// to `commanded` devices at 100/s; the commander's result.
RunResult command_fleet(const Broker& broker, const TempDir& dir, int devices, int commanded,
                        int count, const std::vector<std::string>& extra = {}) {
    ChildProcess fleet({publisher_path(), "-p", broker.port_str(), "-d", std::to_string(devices),
                        "-r", "100", "--duration", "6", "--connections", "per-device", "--commands",
                        "--command-service-ms", "10"},
                       dir / "pub.out", dir / "pub.err");
    EXPECT_TRUE(wait_for_text(dir / "pub.err", "commands: each of", 30s))
        << read_file(dir / "pub.err");
    std::vector<std::string> args{commander_path(),
                                  "-p",
                                  broker.port_str(),
                                  "-d",
                                  std::to_string(commanded),
                                  "-n",
                                  std::to_string(count),
                                  "-r",
                                  "100",
                                  "--report",
                                  (dir / "c.json").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = run(args, dir.path(), 60s);
    EXPECT_EQ(fleet.wait(60s), 0) << read_file(dir / "pub.err");
    return r;
}

RunResult report_tool(const TempDir& dir, const std::vector<std::string>& args) {
    std::vector<std::string> argv{MQTT_REPORT_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, dir.path(), 60s);
}

TEST(Commands, ACommanderAccountsForEveryCommandToAFleetExactly) {
    Broker broker;
    TempDir dir;
    const RunResult r =
        command_fleet(broker, dir, 20, 20, 300,
                      {"--csv", (dir / "c.csv").string(), "--html", (dir / "c.html").string()});
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("mqtt_commander: VERIFIED: sent 300, delivered 300, answered 300 "
                         "(failed 0), late 0, lost 0, executed twice 0, out of order 0"),
              std::string::npos)
        << r.out;
    const auto report = read_json(dir / "c.json");
    EXPECT_EQ(report.at("answered"), 300);
    EXPECT_EQ(report.at("round_trip_us").at("count"), 300);
    EXPECT_GE(report.at("device_work_us").at("p50").get<std::int64_t>(), 9'000)
        << "each device takes its 10 ms";
    // The timeline: a row a second, the last one with every answer.
    const auto& timeline = report.at("timeline");
    ASSERT_GE(timeline.size(), 3u);
    EXPECT_EQ(timeline.back().at("answered"), 300);
    EXPECT_GT(timeline.at(1).at("round_trip_p99_us").get<std::int64_t>(), 9'000);
    EXPECT_EQ(read_file(dir / "c.csv").rfind("t_s,sent,delivered,answered,waiting,", 0), 0u);
    EXPECT_NE(read_file(dir / "c.html").find(R"(<h1 id="verdict" class="pass">VERIFIED)"),
              std::string::npos);
    // mqtt_report: the same commander twice, as two shards' would be, merges exactly.
    const RunResult merged =
        report_tool(dir, {"--commander", (dir / "c.json").string(), "--commander",
                          (dir / "c.json").string(), "--json", (dir / "m.json").string()});
    ASSERT_EQ(merged.status, 0) << merged.out << merged.err;
    EXPECT_NE(merged.out.find("VERIFIED: 0 publisher, 2 commander and 0 subscriber reports"),
              std::string::npos)
        << merged.out;
    const auto m = read_json(dir / "m.json").at("commander");
    EXPECT_EQ(m.at("sent"), 600);
    EXPECT_EQ(m.at("round_trip_us").at("count"), 600);
}

TEST(Commands, ADeviceThatNeverAnswersIsNamedAndFailsTheRun) {
    Broker broker;
    TempDir dir;
    // Three devices commanded, two in the fleet: sensor-0003's commands go unanswered.
    const RunResult r = command_fleet(broker, dir, 2, 3, 30, {"--command-timeout", "1"});
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("lost 10 > --max-lost-commands 0: no final answer from sensor-0003 "
                         "(10 unanswered)"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(read_json(dir / "c.json").at("lost"), 10);
    const RunResult report = report_tool(
        dir, {"--commander", (dir / "c.json").string(), "-o", (dir / "c.html").string()});
    EXPECT_EQ(report.status, 1) << report.out << report.err;
    EXPECT_NE(report.out.find("mqtt_report: failed: commands: lost 10 > --max-lost-commands 0"),
              std::string::npos)
        << report.out;
}

TEST(Commands, OverMqtt311TheDevicesAnswerOnTheReplyTopicEachCommandNames) {
    Broker broker;
    TempDir dir;
    const RunResult r = command_fleet(broker, dir, 5, 5, 50, {"-V", "311"});
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_EQ(read_json(dir / "c.json").at("answered"), 50);
}

TEST(Commands, ACommanderCommandsOneGroupOfAFleetProfile) {
    Broker broker;
    TempDir dir;
    const std::string profile = (project_dir() / "config/profiles/home.toml").string();
    ChildProcess fleet({publisher_path(), "-p", broker.port_str(), "--profile", profile,
                        "--duration", "6", "--connections", "per-device", "--commands"},
                       dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_text(dir / "pub.err", "commands: each of", 30s))
        << read_file(dir / "pub.err");
    const RunResult r =
        run({commander_path(), "-p", broker.port_str(), "--profile", profile, "--group", "room",
             "--every", "0.2", "--duration", "1", "--report", (dir / "c.json").string()},
            dir.path(), 60s);
    EXPECT_EQ(fleet.wait(60s), 0) << read_file(dir / "pub.err");
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    const auto report = read_json(dir / "c.json");
    EXPECT_EQ(report.at("devices"), 4) << "room-0001 ... room-0004";
    EXPECT_EQ(report.at("answered"), 20) << "4 devices, one each every 0.2 s, for 1 s";
}

TEST(Commands, ACommanderThatCannotReachItsBrokerSaysSoAndExitsThree) {
    TempDir dir;
    const RunResult r = run(
        {commander_path(), "-p", std::to_string(free_port()), "-n", "1", "--give-up-after", "1"},
        dir.path(), 30s);
    EXPECT_EQ(r.status, 3) << r.out << r.err;
    EXPECT_NE(r.err.find("mqtt_commander:"), std::string::npos) << r.err;
}

}  // namespace

// The connections as the workload (mqtt_subscriber --connect-only, --reconnect-storm): every
// step of connecting timed, refusals counted by reason, and a storm of reconnects that the
// ledger shows lost nothing; against a real Mosquitto.

#include <fmt/format.h>

#include "pair.hpp"

namespace harness {
namespace {

// The report's histogram of `step`: how many values it holds.
std::uint64_t step_count(const nlohmann::json& report, const std::string& step) {
    const auto& steps = report.at("connections").at("steps_us");
    return steps.contains(step) ? steps.at(step).at("count").get<std::uint64_t>() : 0;
}

TEST(ConnectionWorkload, ConnectOnlyHoldsEveryConnectionAndTimesEachStep) {
    Broker broker;
    TempDir dir;
    const auto r = run({subscriber_path(), "-p", broker.port_str(), "--connect-only",
                        "--connections", "200", "--connect-rate", "400", "--hold", "1", "-i",
                        "hold", "-t", "sensors/{n}/#", "--report", (dir / "r.json").string()},
                       dir.path(), 120s);
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("VERIFIED: 200 of 200 connections up, 200 subscribed, held 1."),
              std::string::npos)
        << r.out;
    const auto report = read_json(dir / "r.json");
    const auto& c = report.at("connections");
    EXPECT_EQ(c.at("planned"), 200);
    EXPECT_EQ(c.at("connected"), 200);
    EXPECT_EQ(c.at("subscribed"), 200);
    EXPECT_EQ(c.at("failed"), 0);
    EXPECT_EQ(c.at("lost"), 0);
    for (const char* step : {"tcp", "connack", "suback"})
        EXPECT_EQ(step_count(report, step), 200u) << step;
    EXPECT_EQ(step_count(report, "tls"), 0u) << "no TLS, no TLS step";
    // Paced at 400/s: the 200 take about half a second, not all at once.
    EXPECT_GT(c.at("connect_rate").get<double>(), 0.0);
    EXPECT_LE(c.at("connect_rate").get<double>(), 440.0);
    EXPECT_TRUE(report.at("verified").get<bool>());
    EXPECT_EQ(report.at("end_reason"), "held");
}

TEST(ConnectionWorkload, ARefusedConnectionIsCountedByReasonAndFailsTheRun) {
    TempDir dir;
    const fs::path pw = dir / "passwords";
    ASSERT_EQ(
        run({"mosquitto_passwd", "-b", "-c", pw.string(), "sensor", "right"}, dir.path()).status,
        0);
    Broker broker({{{"allow_anonymous", "false"}}, {"password_file " + pw.string()}});
    const auto r =
        run({subscriber_path(), "-p", broker.port_str(), "--connect-only", "--connections", "20",
             "--hold", "0.5", "--report", (dir / "r.json").string()},
            dir.path(), 120s);
    EXPECT_EQ(r.status, 3) << "not one connection came up: the broker refuses\n" << r.out;
    EXPECT_NE(r.out.find("failed: 20 of 20 connections failed (20 refused: "), std::string::npos)
        << r.out;
    const auto report = read_json(dir / "r.json");
    const auto& c = report.at("connections");
    EXPECT_EQ(c.at("refused"), 20);
    EXPECT_EQ(c.at("connected"), 0);
    ASSERT_EQ(c.at("refused_by_reason").size(), 1u) << c.dump();
    EXPECT_EQ(c.at("refused_by_reason").begin().value(), 20);
    EXPECT_EQ(step_count(report, "connack"), 20u) << "a refusing CONNACK is timed too";
}

TEST(ConnectionWorkload, HeldConnectionsComeBackFromAReconnectStorm) {
    Broker broker;
    TempDir dir;
    const auto r =
        run({subscriber_path(), "-p", broker.port_str(), "--connect-only", "--connections", "50",
             "--hold", "4", "--reconnect-storm", "1", "--report", (dir / "r.json").string()},
            dir.path(), 120s);
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.err.find("reconnect storm: 50 connections dropped at once"), std::string::npos)
        << r.err;
    const auto report = read_json(dir / "r.json");
    const auto& c = report.at("connections");
    EXPECT_EQ(c.at("reconnected"), 50);
    EXPECT_EQ(c.at("lost"), 0) << "dropped on purpose: not lost";
    EXPECT_EQ(step_count(report, "outage"), 50u);
    EXPECT_EQ(step_count(report, "reconnect_connack"), 50u);
}

TEST(ConnectionWorkload, AFleetThroughAReconnectStormIsVerifiedExactly) {
    // Persistent sessions (the default): what is published while the fleet is away waits for
    // it in the broker, and every subscriber's ledger shows that nothing was lost.
    Broker broker;
    TempDir dir;
    const auto r = run_pair(
        broker, dir, {"-n", "4000", "-d", "10", "-r", "1000", "--max-schedule-lag-ms", "60000"},
        {"--connections", "10", "-i", "storm", "--reconnect-storm", "1", "--idle-timeout", "20"});
    ASSERT_EQ(r.publisher_status, 0) << r.publisher_err;
    ASSERT_EQ(r.subscriber_status, 0) << r.subscriber_out;
    EXPECT_NE(r.subscriber_out.find("VERIFIED: 10 of 10 subscribers complete: 40000 deliveries "
                                    "of 40000 expected"),
              std::string::npos)
        << r.subscriber_out;
    EXPECT_NE(r.subscriber_err.find("reconnect storm: 10 subscriber connections dropped"),
              std::string::npos)
        << r.subscriber_err;
    const auto& c = r.subscriber.at("connections");
    EXPECT_EQ(c.at("reconnected"), 10);
    EXPECT_EQ(c.at("lost"), 0);
    EXPECT_EQ(step_count(r.subscriber, "outage"), 10u);
    EXPECT_EQ(r.subscriber.at("reconnects").size(), 10u);
}

TEST(ConnectionWorkload, HeldConnectionsFlapASubscriptionAndEachAnswerIsTimed) {
    Broker broker;
    TempDir dir;
    const auto r =
        run({subscriber_path(), "-p", broker.port_str(), "--connect-only", "--connections", "20",
             "--hold", "2.2", "--flap-every", "0.5", "--report", (dir / "r.json").string()},
            dir.path(), 120s);
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    const auto report = read_json(dir / "r.json");
    // Every 0.5 s of the 2.2 s hold each connection subscribes to flap/N or unsubscribes again:
    // at least one round of each beside its data subscription.
    EXPECT_GE(step_count(report, "suback"), 40u);
    EXPECT_GE(step_count(report, "unsuback"), 20u);
    EXPECT_EQ(report.at("connections").at("subscribe_refused"), 0);
}

TEST(ConnectionWorkload, AFleetWhoseSubscriptionsFlapIsStillVerifiedExactly) {
    // The flapped filter (flap/N) matches no data: the churn beside the data subscriptions
    // must cost no subscriber a message.
    Broker broker;
    TempDir dir;
    const auto r = run_pair(
        broker, dir, {"-n", "3000", "-d", "10", "-r", "1000", "--max-schedule-lag-ms", "60000"},
        {"--connections", "5", "-i", "flap", "--flap-every", "0.3", "--idle-timeout", "20"});
    ASSERT_EQ(r.publisher_status, 0) << r.publisher_err;
    ASSERT_EQ(r.subscriber_status, 0) << r.subscriber_out;
    EXPECT_NE(r.subscriber_out.find("VERIFIED: 5 of 5 subscribers complete: 15000 deliveries"),
              std::string::npos)
        << r.subscriber_out;
    EXPECT_GE(step_count(r.subscriber, "unsuback"), 5u);
}

}  // namespace
}  // namespace harness

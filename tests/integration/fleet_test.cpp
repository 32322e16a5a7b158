// --connections: a fleet whose devices are connections of their own (per-device: the device's
// client id, a retained online/offline status and a last will), or spread over N connections
// and several local addresses; each verified exactly by the subscriber.

#include <signal.h>

#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "pair.hpp"

namespace harness {
namespace {

// The retained statuses on sensors/+/status: how many devices say `state`.
int devices_saying(const Broker& broker, const TempDir& dir, const std::string& state) {
    const RunResult r =
        run({"mosquitto_sub", "-p", broker.port_str(), "-t", "sensors/+/status", "-v", "-W", "2"},
            dir.path(), 30s);
    int n = 0;
    const std::regex line("sensors/[^/]+/status " + state + "\n");
    for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), line);
         it != std::sregex_iterator(); ++it)
        ++n;
    return n;
}

int count_of(const std::string& text, const std::string& needle) {
    int n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

TEST(Fleet, EveryDeviceItsOwnConnectionOnlineWhileRunningOfflineAfterVerifiedExactly) {
    Broker broker;
    TempDir dir;
    auto sub = start_subscriber(broker.port_str(), dir, {});
    ChildProcess pub({publisher_path(), "-p", broker.port_str(), "-n", "6000", "-d", "300", "-r",
                      "2000", "--connections", "per-device", "--connect-rate", "3000", "--report",
                      (dir / "pub.json").string()},
                     dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_count(dir / "sub.err", "received ", 1000, 60s))
        << read_file(dir / "pub.err");
    EXPECT_EQ(devices_saying(broker, dir, "online"), 300);
    ASSERT_EQ(pub.wait(120s), 0) << read_file(dir / "pub.err");
    ASSERT_EQ(sub->wait(60s), 0) << read_file(dir / "sub.err");
    const nlohmann::json report = read_json(dir / "sub.json");
    EXPECT_EQ(report.at("unique"), 6000);
    EXPECT_EQ(report.at("duplicates"), 0);
    EXPECT_EQ(
        report.at("devices"),
        (nlohmann::json{
            {"known", 300}, {"seen", 300}, {"complete", 300}, {"with_loss", 0}, {"outside", 0}}));
    // One MQTT connection per device, named after it; an orderly end says offline itself.
    const std::string log = read_file(broker.dir() / "mosquitto.log");
    EXPECT_EQ(count_of(log, " as sensor-"), 300) << log.substr(0, 2000);
    EXPECT_NE(log.find(" as sensor-0300 "), std::string::npos);
    EXPECT_EQ(devices_saying(broker, dir, "offline"), 300);
}

TEST(Fleet, AKilledFleetIsOfflineByTheLastWillOfEveryDevice) {
    Broker broker;
    TempDir dir;
    ChildProcess pub({publisher_path(), "-p", broker.port_str(), "-n", "100000", "-d", "200", "-r",
                      "1000", "--connections", "per-device"},
                     dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_count(dir / "pub.err", "sent ", 1000, 60s)) << read_file(dir / "pub.err");
    EXPECT_EQ(devices_saying(broker, dir, "online"), 200);
    pub.signal(SIGKILL);
    pub.wait(10s);
    // The broker publishes each will when it sees the connection gone [MQTT-3.1.2-8].
    int offline = 0;
    for (int i = 0; i < 10 && offline < 200; ++i) offline = devices_saying(broker, dir, "offline");
    EXPECT_EQ(offline, 200);
}

TEST(Fleet, DevicesSpreadOverConnectionsAndLocalAddressesAreVerifiedExactly) {
    Broker broker;
    TempDir dir;
    const auto r = run_pair(
        broker, dir,
        {"-n", "4000", "-d", "40", "--connections", "4", "--bind-address", "127.0.0.2,127.0.0.3"},
        {});
    expect_verified(r, 4000);
    const std::string log = read_file(broker.dir() / "mosquitto.log");
    EXPECT_EQ(count_of(log, "New connection from 127.0.0.2:"), 2) << log.substr(0, 2000);
    EXPECT_EQ(count_of(log, "New connection from 127.0.0.3:"), 2);
    EXPECT_NE(r.publisher_err.find("4 connections"), std::string::npos) << r.publisher_err;
}

// A stock Mosquitto allows 20 in flight per MQTT 5 connection: auto asks for
// ceil(200 / 20) = 10, bounded to 8. No queue limit here, so that what is pinned
// is the choice and the exact delivery over it.
TEST(Fleet, ConnectionsAutoOpensEnoughConnectionsForTheBrokersReceiveMaximum) {
    Broker broker({{{"max_inflight_messages", "20"}, {"max_queued_messages", "0"}}, {}});
    TempDir dir;
    const auto r = run_pair(broker, dir, {"-n", "4000", "-d", "40", "--connections", "auto"}, {});
    expect_verified(r, 4000);
    EXPECT_NE(r.publisher_err.find("--connections auto: 8 connections (a window of 20 each"),
              std::string::npos)
        << r.publisher_err;
}

TEST(Fleet, ConnectionsAutoKeepsOneConnectionWhereItsWindowSuffices) {
    Broker broker;  // config/mosquitto.conf: 1,000 in flight
    TempDir dir;
    const auto r = run_pair(broker, dir, {"-n", "2000", "--connections", "auto"}, {});
    expect_verified(r, 2000);
    EXPECT_NE(r.publisher_err.find("--connections auto: 1 connection (a window of"),
              std::string::npos)
        << r.publisher_err;
}

TEST(Fleet, ChurnedDevicesVanishTheirWillsFireAndTheyComeBackWithEveryMessageVerified) {
    Broker broker;
    TempDir dir;
    // Every status change, as it happens (the wills of vanished devices are not retained for
    // long: each device says online again when it is back).
    ChildProcess statuses(
        {"mosquitto_sub", "-p", broker.port_str(), "-t", "sensors/+/status", "-v", "-q", "1"},
        dir / "status.out", dir / "status.err");
    auto sub = start_subscriber(broker.port_str(), dir, {});
    // 300 devices, each every 500 ms for 6 s; 60 of them vanish once for a second.
    ChildProcess pub(
        {publisher_path(), "-p", broker.port_str(), "-d", "300", "--interval", "500", "--duration",
         "6", "--connections", "per-device", "--connect-rate", "3000", "--churn", "0.2",
         "--churn-downtime", "1", "--report", (dir / "pub.json").string()},
        dir / "pub.out", dir / "pub.err");
    ASSERT_EQ(pub.wait(120s), 0) << read_file(dir / "pub.err");
    ASSERT_EQ(sub->wait(60s), 0) << read_file(dir / "sub.err");
    const nlohmann::json published = read_json(dir / "pub.json");
    EXPECT_EQ(published.at("churn"),
              (nlohmann::json{{"share", 0.2}, {"planned", 60}, {"dropped", 60}, {"returned", 60}}));
    EXPECT_EQ(published.at("reconnects").size(), 0U) << "a churned device is not a fault";
    const nlohmann::json report = read_json(dir / "sub.json");
    EXPECT_EQ(report.at("unique"), 3600);
    EXPECT_EQ(report.at("missing"), 0);
    EXPECT_EQ(report.at("out_of_order"), 0);
    EXPECT_EQ(
        report.at("devices"),
        (nlohmann::json{
            {"known", 300}, {"seen", 300}, {"complete", 300}, {"with_loss", 0}, {"outside", 0}}));
    // The subscriber followed the statuses too: each churned device went offline and back.
    const nlohmann::json& status = report.at("device_status");
    EXPECT_EQ(status.at("online").get<int>() + status.at("offline").get<int>(), 300) << status;
    EXPECT_GE(status.at("changes"), 300 + 2 * 60) << status;
    EXPECT_EQ(report.at("slowest_devices").size(), 20U);
    // 60 wills while running and 300 orderly goodbyes; 300 births and 60 more on return.
    const std::string status_out = dir / "status.out";
    for (int i = 0; i < 100 && count_of(read_file(status_out), " offline\n") < 360; ++i)
        std::this_thread::sleep_for(100ms);
    statuses.signal(SIGTERM);
    statuses.wait(10s);
    const std::string seen = read_file(status_out);
    EXPECT_EQ(count_of(seen, " offline\n"), 360) << seen.substr(0, 2000);
    EXPECT_EQ(count_of(seen, " online\n"), 360);
    const std::string log = read_file(broker.dir() / "mosquitto.log");
    EXPECT_EQ(count_of(log, " closed its connection"), 60) << "no DISCONNECT from the churned";
}

std::string example_profile(const std::string& name) {
    return (fs::path(MQTT_TELEMETRY_SOURCE_DIR) / "config" / "profiles" / name).string();
}

TEST(Fleet, TheHomeProfileRunsItsGroupsVerifiedWithItsWeatherStationChurned) {
    Broker broker;
    TempDir dir;
    const auto r = run_pair(
        broker, dir,
        {"--profile", example_profile("home.toml"), "--duration", "6", "--churn-downtime", "1"},
        {});
    // 4 rooms once (every 10 s), the thermostat 1 of 6/5, the weather station 3 of 6/2.
    expect_verified(r, 4 + 1 + 3);
    EXPECT_EQ(r.subscriber.at("devices").at("complete"), 6);
    EXPECT_EQ(r.publisher.at("churn").at("returned"), 1);
    const std::string log = read_file(broker.dir() / "mosquitto.log");
    EXPECT_NE(log.find(" as home-room-4 "), std::string::npos) << log.substr(0, 2000);
    EXPECT_NE(log.find(" as thermostat-0001 "), std::string::npos);
}

TEST(Fleet, TheFactoryProfileHoldsFourThousandConnectionsVerifiedExactly) {
    Broker broker;
    TempDir dir;
    const auto r = run_pair(broker, dir,
                            {"--profile", example_profile("factory.toml"), "--duration", "2",
                             "--connect-rate", "4000", "--churn-downtime", "1"},
                            {"-t", "factory/+/+/telemetry"}, 180s);
    // Presses 2 each, everything else once: 2,000 + 2,000 + 500 + 500.
    expect_verified(r, 5000);
    EXPECT_EQ(r.subscriber.at("devices").at("complete"), 4000);
    EXPECT_EQ(r.publisher.at("churn").at("returned"), 150);
    EXPECT_NE(r.publisher_err.find("4000 connections"), std::string::npos) << r.publisher_err;
}

TEST(Fleet, ConnectionsNeedTheNativeEngineAndNoMoreThanTheDevices) {
    TempDir dir;
    const RunResult engine =
        run({publisher_path(), "--connections", "per-device", "--client", "libmosquitto"},
            dir.path(), 30s);
    EXPECT_EQ(engine.status, 2);
    EXPECT_NE(engine.err.find("native engine"), std::string::npos) << engine.err;
    const RunResult many =
        run({publisher_path(), "-d", "5", "--connections", "6"}, dir.path(), 30s);
    EXPECT_EQ(many.status, 2);
    EXPECT_NE(many.err.find("--connections 6 exceeds --devices (5)"), std::string::npos)
        << many.err;
    const RunResult bind = run({publisher_path(), "--bind-address", "localhost"}, dir.path(), 30s);
    EXPECT_EQ(bind.status, 2);
    EXPECT_NE(bind.err.find("--bind-address localhost is not a numeric IP address"),
              std::string::npos)
        << bind.err;
}

}  // namespace
}  // namespace harness

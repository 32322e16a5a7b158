// Fleet profiles: TOML groups of devices, every mistake named with its line, and the options a
// profile gives the publisher.
#include "app/fleet_profile.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "app/fleet_plan.hpp"
#include "app/publisher.hpp"
#include "temp_dir.hpp"

namespace app {
namespace {

constexpr const char* kTwoGroups = R"(
duration = 60
seed = 9

[[group]]
name = "room"
devices = 3
interval_ms = 1000
jitter = 0.2
qos = 2
client_id = "home-{group}-{n}"
churn = 0.5
[group.sensors]
fault_rate = 0.01
mains_powered = true
temperature_c = 21.5

[[group]]
name = "weather"
interval_ms = 2000
topic = "outside/{group}/{device}"
)";

std::string error_of(const std::string& toml) {
    try {
        parse_fleet_profile(toml, "p.toml");
    } catch (const ProfileError& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(FleetProfile, GroupsWithTheirOwnCountIntervalQosTemplatesChurnAndSensors) {
    const FleetProfile p = parse_fleet_profile(kTwoGroups, "p.toml");
    EXPECT_EQ(p.duration_s, 60.0);
    EXPECT_EQ(p.seed, 9U);
    ASSERT_EQ(p.groups.size(), 2U);
    const DeviceGroup& room = p.groups[0];
    EXPECT_EQ(room.name, "room");
    EXPECT_EQ(room.devices, 3U);
    EXPECT_EQ(room.id_prefix, "room-");
    EXPECT_EQ(room.interval_ms, 1000.0);
    EXPECT_EQ(room.jitter, 0.2);
    EXPECT_EQ(room.qos, 2);
    EXPECT_EQ(room.client_id, "home-{group}-{n}");
    EXPECT_EQ(room.churn, 0.5);
    EXPECT_EQ(room.sensors.fault_rate, 0.01);
    EXPECT_TRUE(room.sensors.mains_powered);
    EXPECT_EQ(room.sensors.temperature_c, 21.5);
    const DeviceGroup& weather = p.groups[1];
    EXPECT_EQ(weather.devices, 1U);
    EXPECT_EQ(weather.qos, 1);
    EXPECT_EQ(weather.topic, "outside/{group}/{device}");
    EXPECT_EQ(weather.client_id, "{device}");
}

TEST(FleetProfile, EveryMistakeIsNamedWithItsLine) {
    EXPECT_EQ(error_of("[[group]]\nname = \"a\"\ninterval_ms = 5\ndevcies = 2\n"),
              "p.toml:4:11: unknown key 'devcies'");
    EXPECT_EQ(error_of("[[group]]\nname = \"a\"\n"), "p.toml:1:1: a group needs 'interval_ms'");
    EXPECT_EQ(error_of("[[group]]\nname = \"a\"\ninterval_ms = 5\nqos = 3\n"),
              "p.toml:4:7: 'qos' must be within [0, 2]");
    EXPECT_EQ(error_of("[[group]]\nname = \"a\"\ninterval_ms = \"often\"\n"),
              "p.toml:3:15: 'interval_ms' has the wrong type");
    EXPECT_NE(error_of("[[group]]\nname = \"a b\"\ninterval_ms = 5\n").find("'name'"),
              std::string::npos);
    EXPECT_NE(error_of("[[group]]\nname = \"a\"\ninterval_ms = 5\n[[group]]\nname = \"a\"\n"
                       "interval_ms = 5\n")
                  .find("two groups are named 'a'"),
              std::string::npos);
    EXPECT_NE(error_of("duration = 5\n").find("at least one [[group]]"), std::string::npos);
    EXPECT_NE(error_of("[[group]\n").find("p.toml:1:"), std::string::npos);
    EXPECT_NE(error_of("[[group]]\nname = \"a\"\ninterval_ms = 5\ntopic = \"x/#\"\n").find("topic"),
              std::string::npos);
}

TEST(FleetProfile, AGroupMayChooseItsOwnPayload) {
    const FleetProfile p = parse_fleet_profile(
        "[[group]]\nname = \"cam\"\ninterval_ms = 5\npayload_format = \"random\"\n"
        "payload_size = \"64k\"\n[[group]]\nname = \"db\"\ninterval_ms = 5\n"
        "payload_template = '{\"t\":${temp}}'\n",
        "p.toml");
    ASSERT_EQ(p.groups.size(), 2U);
    EXPECT_EQ(p.groups[0].payload_format, "random");
    EXPECT_EQ(p.groups[0].payload_size, "64k");
    EXPECT_EQ(p.groups[1].payload_template, R"({"t":${temp}})");
    EXPECT_FALSE(p.groups[1].payload_format);
    EXPECT_EQ(error_of("[[group]]\nname = \"a\"\ninterval_ms = 5\npayload_format = \"xml\"\n"),
              "p.toml:4:18: 'payload_format' must be json, binary, random, template, file, "
              "protobuf, cbor or msgpack");
}

TEST(FleetProfile, TemplatesTakeTheDeviceItsNumberAndItsGroup) {
    EXPECT_EQ(expand_device_template("f/{group}/{device}/{n}", "press-0007", 7, "press"),
              "f/press/press-0007/7");
    EXPECT_EQ(expand_device_template("{x}{device", "d", 1, "g"), "{x}{device");
}

TEST(FleetProfile, ItGivesThePublisherItsDevicesConnectionsAndRunLength) {
    testing_support::TempDir dir;
    const std::string path = (dir.path() / "p.toml").string();
    std::ofstream(path) << kTwoGroups;
    const auto parsed = parse_publisher_args({"mqtt_publisher", "--profile", path});
    ASSERT_TRUE(parsed.options) << parsed.err;
    const PublisherOptions& o = *parsed.options;
    EXPECT_EQ(o.devices, 4U);
    EXPECT_TRUE(o.per_device);
    EXPECT_EQ(o.count, 3U * 60 + 30);  // every 1 s and every 2 s for 60 s
    EXPECT_EQ(o.seed, 9U);
    const auto specs = plan_run(o).devices;
    ASSERT_EQ(specs.size(), 4U);
    EXPECT_EQ(specs[3].id, "weather-0001");
    EXPECT_EQ(specs[3].topic, "outside/weather/weather-0001");
    const auto plans = connection_plans(o, plan_run(o));
    EXPECT_EQ(plans[1].client_id, "home-room-2");
    EXPECT_EQ(plans[1].will->topic, "sensors/room-0002/status");
    EXPECT_EQ(plans[3].client_id, "weather-0001");
    const auto shorter =
        parse_publisher_args({"mqtt_publisher", "--profile", path, "--duration", "10"});
    ASSERT_TRUE(shorter.options);
    EXPECT_EQ(shorter.options->count, 3U * 10 + 5);
    const auto clash = parse_publisher_args({"mqtt_publisher", "--profile", path, "-d", "5"});
    EXPECT_EQ(clash.exit_status, 2);
    EXPECT_NE(clash.err.find("--profile"), std::string::npos) << clash.err;
}

TEST(FleetProfile, AGroupMayReachTheBrokerItsOwnWay) {
    // Each group's host is a --host value: its own transport, port and path; TLS takes the
    // command line's certificates, WebSocket its headers.
    testing_support::TempDir dir;
    const std::string path = (dir.path() / "p.toml").string();
    std::ofstream(path) << "duration = 1\n"
                           "[[group]]\nname = \"plain\"\ninterval_ms = 100\ndevices = 2\n"
                           "[[group]]\nname = \"web\"\ninterval_ms = 100\n"
                           "host = \"wss://a:9001/ws,wss://b:9001/ws\"\n"
                           "[[group]]\nname = \"tls\"\ninterval_ms = 100\nhost = \"mqtts://c\"\n";
    const auto parsed = parse_publisher_args(
        {"mqtt_publisher", "--profile", path, "-h", "m", "--insecure", "--ws-header", "K: v"});
    ASSERT_TRUE(parsed.options) << parsed.err;
    const PublisherOptions& o = *parsed.options;
    const RunPlan run = plan_run(o);
    const auto plans = connection_plans(o, run);
    ASSERT_EQ(plans.size(), 4U);
    EXPECT_FALSE(plans[0].endpoint) << "no host: the command line's";
    ASSERT_TRUE(plans[2].endpoint);
    const mqtt::BrokerEndpoint& web = *plans[2].endpoint;
    EXPECT_EQ(web.nodes, (std::vector<mqtt::BrokerAddress>{{"a", 9001}, {"b", 9001}}));
    ASSERT_TRUE(web.websocket && web.tls);
    EXPECT_EQ(web.websocket->path, "/ws");
    EXPECT_EQ(web.websocket->headers, std::vector<std::string>{"K: v"});
    EXPECT_TRUE(web.tls->insecure) << "the command line's TLS settings";
    const mqtt::ConnectOptions c = mqtt::starting_at(mqtt::through(o.connect, web), 1);
    EXPECT_EQ(c.host, "b");
    EXPECT_EQ(c.failover, (std::vector<mqtt::BrokerAddress>{{"a", 9001}}));
    ASSERT_TRUE(plans[3].endpoint);
    EXPECT_EQ(plans[3].endpoint->nodes.front().port, 8883);
    EXPECT_FALSE(plans[3].endpoint->websocket);
    EXPECT_EQ(transport_of(o, run, 0), "wss") << "-h m with TLS and WebSocket flags";
    EXPECT_EQ(transport_of(o, run, 2), "wss");
    EXPECT_EQ(transport_of(o, run, 3), "tls");

    EXPECT_EQ(error_of("[[group]]\nname = \"a\"\ninterval_ms = 5\nhost = \"http://x\"\n"),
              "p.toml:4:8: 'host' 'http://x': unknown scheme http:// (mqtt, mqtts, ws, wss)");
    std::ofstream(path) << "duration = 1\n[[group]]\nname = \"a\"\ninterval_ms = 5\n"
                           "devices = 4\nhost = \"ws://x\"\n";
    const auto shared =
        parse_publisher_args({"mqtt_publisher", "--profile", path, "--connections", "2"});
    EXPECT_EQ(shared.exit_status, 2);
    EXPECT_NE(shared.err.find("group 'a' has its own host, which needs a connection per device"),
              std::string::npos)
        << shared.err;
}

}  // namespace
}  // namespace app

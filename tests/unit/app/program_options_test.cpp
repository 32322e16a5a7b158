// Argument validation of both programs: every bad value is a usage error (exit 2) with a
// one-line message naming the flag, before anything connects.

#include <gtest/gtest.h>

#include <array>

#include "app/cli_common.hpp"
#include "app/commander.hpp"
#include "app/fleet_plan.hpp"
#include "app/publisher.hpp"
#include "app/subscriber.hpp"

namespace app {
namespace {

std::vector<std::string> pub(std::initializer_list<std::string> rest) {
    std::vector<std::string> v{"mqtt_publisher"};
    v.insert(v.end(), rest);
    return v;
}
std::vector<std::string> sub(std::initializer_list<std::string> rest) {
    std::vector<std::string> v{"mqtt_subscriber"};
    v.insert(v.end(), rest);
    return v;
}

TEST(PublisherOptions, DefaultsAreTheReferenceRun) {
    const auto p = parse_publisher_args(pub({}));
    ASSERT_TRUE(p.options) << p.err;
    EXPECT_EQ(p.options->count, 1'000'000u);
    EXPECT_EQ(p.options->qos, 1);
    EXPECT_EQ(p.options->connect.host, "127.0.0.1");
    EXPECT_EQ(p.options->output.progress_every, 1000u);
    EXPECT_TRUE(p.options->window_auto) << "--window auto is the default";
}

TEST(PublisherOptions, WindowIsAutoOrAFixedNumberAndQos0KeepsAFixedOne) {
    const auto fixed = parse_publisher_args(pub({"-w", "200"}));
    ASSERT_TRUE(fixed.options) << fixed.err;
    EXPECT_FALSE(fixed.options->window_auto);
    EXPECT_EQ(fixed.options->connect.max_inflight, 200u);
    const auto automatic = parse_publisher_args(pub({"--window", "auto", "--window-max", "500"}));
    ASSERT_TRUE(automatic.options) << automatic.err;
    EXPECT_TRUE(automatic.options->window_auto);
    EXPECT_EQ(automatic.options->window_max, 500u);
    const auto qos0 = parse_publisher_args(pub({"-q", "0"}));
    ASSERT_TRUE(qos0.options) << qos0.err;
    EXPECT_FALSE(qos0.options->window_auto) << "no confirmations to steer by at QoS 0";
}

TEST(PublisherOptions, AnAutoWindowOverLibmosquittoStaysWhereItsCostPerMessageIsLow) {
    const auto automatic = parse_publisher_args(pub({"--client", "libmosquitto", "-V", "311"}));
    ASSERT_TRUE(automatic.options) << automatic.err;
    EXPECT_EQ(automatic.options->window_max, PublisherOptions::kLibmosquittoWindowMax);
    EXPECT_EQ(automatic.options->connect.max_inflight,
              PublisherOptions::kLibmosquittoWindowMax + PublisherOptions::kControlRoom);
    const auto fixed = parse_publisher_args(pub({"--client", "libmosquitto", "-w", "5000"}));
    ASSERT_TRUE(fixed.options) << fixed.err;
    EXPECT_EQ(fixed.options->connect.max_inflight, 5000u) << "a fixed window is the user's";
}

TEST(PublisherOptions, MosquittoPubShortFlagsWork) {
    const auto p = parse_publisher_args(pub({"-h", "broker", "-p", "1884", "-q", "2", "-i", "me",
                                             "-u", "user", "-P", "pw", "-t", "x/{device}"}));
    ASSERT_TRUE(p.options) << p.err;
    EXPECT_EQ(p.options->connect.host, "broker");
    EXPECT_EQ(p.options->connect.port, 1884);
    EXPECT_EQ(p.options->qos, 2);
    EXPECT_EQ(p.options->connect.client_id, "me");
    EXPECT_EQ(p.options->connect.username, "user");
    EXPECT_EQ(p.options->connect.password, "pw");
    EXPECT_EQ(p.options->topic, "x/{device}");
}

TEST(PublisherOptions, PayloadFlagsAreCheckedTogetherAndNamed) {
    const auto sized =
        parse_publisher_args(pub({"--payload-format", "random", "--payload-size", "1k..4K"}));
    ASSERT_TRUE(sized.options) << sized.err;
    EXPECT_EQ(sized.options->payload.size, (telemetry::PayloadSize{1024, 4096}));
    const auto templ = parse_publisher_args(pub({"--payload-template", "${seq}"}));
    ASSERT_TRUE(templ.options) << templ.err;
    EXPECT_EQ(templ.options->payload.format, telemetry::PayloadFormat::Template);
    const std::pair<std::vector<std::string>, std::string> refused[] = {
        {pub({"--payload-format", "template"}),
         "--payload-format template needs --payload-template"},
        {pub({"--payload-template", "x", "--payload-size", "100"}), "sets its own size"},
        {pub({"--payload-template", "x", "--payload-format", "random"}),
         "--payload-template needs --payload-format template"},
        {pub({"--envelope", "properties"}), "a JSON reading carries its own fields"},
        {pub({"--payload-format", "random", "--envelope", "properties", "-V", "311"}),
         "needs MQTT 5"},
        {pub({"--payload-format", "random", "--payload-size", "20"}), "at least 49 bytes"},
        {pub({"--payload-size", "100"}), "--payload-format random or binary"},
        {pub({"--payload-format", "xml"}), "--payload-format"},
    };
    for (const auto& [args, named] : refused) {
        const auto p = parse_publisher_args(args);
        EXPECT_FALSE(p.options) << named;
        EXPECT_EQ(p.exit_status, 2) << named;
        EXPECT_NE(p.err.find(named), std::string::npos) << p.err;
    }
}

TEST(PublisherOptions, AShardKeepsEveryNthDeviceAndItsMessages) {
    const auto p =
        parse_publisher_args(pub({"--shard", "2/3", "--run-id", "r1", "-d", "10", "-n", "105"}));
    ASSERT_TRUE(p.options) << p.err;
    EXPECT_EQ(p.options->devices, 3U);  // sensor-0002, 0005, 0008
    EXPECT_EQ(p.options->devices_total, 10U);
    EXPECT_EQ(p.options->count, 3U * 10 + 2);  // devices 0-4 (0-based) send one more
    const auto specs = plan_run(*p.options).devices;
    ASSERT_EQ(specs.size(), 3U);
    EXPECT_EQ(specs[0].id, "sensor-0002");
    EXPECT_EQ(specs[2].id, "sensor-0008");
    EXPECT_EQ(specs[2].number, 8U);
    const auto paced = parse_publisher_args(pub(
        {"--shard", "1/2", "--run-id", "r1", "-d", "10", "--interval", "1000", "--duration", "5"}));
    ASSERT_TRUE(paced.options) << paced.err;
    EXPECT_EQ(paced.options->rate, 5.0);
    EXPECT_EQ(paced.options->count, 25U);
}

TEST(ProgramOptions, AHostListNamesTheFirstNodeAndTheOthersAsFailover) {
    const auto p = parse_publisher_args(pub({"-h", "a:1884,b,[::1]:1885,fe80::1", "-p", "1999"}));
    ASSERT_TRUE(p.options) << p.err;
    EXPECT_EQ(p.options->connect.host, "a");
    EXPECT_EQ(p.options->connect.port, 1884);
    EXPECT_EQ(p.options->connect.failover,
              (std::vector<mqtt::BrokerAddress>{{"b", 1999}, {"::1", 1885}, {"fe80::1", 1999}}));
    const auto s = parse_subscriber_args(sub({"--host", "127.0.0.2:1883,127.0.0.3:1883"}));
    ASSERT_TRUE(s.options) << s.err;
    EXPECT_EQ(s.options->connect.host, "127.0.0.2");
    EXPECT_EQ(s.options->connect.failover, (std::vector<mqtt::BrokerAddress>{{"127.0.0.3", 1883}}));
    const auto one = parse_subscriber_args(sub({"-h", "broker.local", "-p", "1884"}));
    ASSERT_TRUE(one.options);
    EXPECT_EQ(one.options->connect.host, "broker.local");
    EXPECT_EQ(one.options->connect.port, 1884);
    EXPECT_TRUE(one.options->connect.failover.empty());
}

TEST(ProgramOptions, HostUrlsChooseTheTransportPortAndPath) {
    const auto ws = parse_subscriber_args(sub({"-h", "ws://a:8080/x/mqtt,WS://b:8081/x/mqtt"}));
    ASSERT_TRUE(ws.options) << ws.err;
    const auto& c = ws.options->connect;
    EXPECT_EQ(c.host, "a");
    EXPECT_EQ(c.port, 8080);
    ASSERT_TRUE(c.websocket);
    EXPECT_EQ(c.websocket->path, "/x/mqtt");
    EXPECT_FALSE(c.tls);
    EXPECT_EQ(c.failover, (std::vector<mqtt::BrokerAddress>{{"b", 8081}}));
    const auto wss = parse_publisher_args(pub({"-h", "wss://broker.example"}));
    ASSERT_TRUE(wss.options) << wss.err;
    EXPECT_EQ(wss.options->connect.port, 443);
    EXPECT_EQ(wss.options->connect.websocket->path, "/mqtt");
    ASSERT_TRUE(wss.options->connect.tls);
    EXPECT_TRUE(wss.options->connect.tls->use_os_certs) << "no --cafile: the system's CAs";
    const auto flags = parse_publisher_args(
        pub({"--ws", "--ws-path", "/ws", "--ws-header", "X-Key: 1", "--ws-header", "Y: 2"}));
    ASSERT_TRUE(flags.options) << flags.err;
    EXPECT_EQ(flags.options->connect.port, 80);
    EXPECT_EQ(flags.options->connect.websocket->headers,
              (std::vector<std::string>{"X-Key: 1", "Y: 2"}));
    const auto mqtts = parse_publisher_args(pub({"-h", "mqtts://b"}));
    EXPECT_EQ(mqtts.options ? mqtts.options->connect.port : 0, 8883) << mqtts.err;
}

TEST(ProgramOptions, HostUrlsThatContradictTheFlagsAreUsageErrors) {
    const std::pair<std::vector<std::string>, const char*> cases[] = {
        {pub({"-h", "mqtt://a", "--cafile", "ca.crt"}), "use mqtts:// or wss://"},
        {pub({"-h", "mqtts://a", "--ws"}), "use ws:// or wss://"},
        {pub({"-h", "ws://a/x", "--ws-path", "/y"}), "differs from --ws-path"},
        {pub({"-h", "ws://a,mqtt://b"}), "one scheme, one path"},
        {pub({"-h", "http://a"}), "unknown scheme http://"},
        {pub({"-h", "mqtt://a/path"}), "only ws:// and wss:// take a path"},
        {pub({"--ws-header", "no colon"}), "expected 'Name: value'"},
        {pub({"--ws-path", "mqtt"}), "not a path from /"},
        {pub({"-h", "ws://a", "--client", "libmosquitto"}), "needs --client native"},
    };
    for (const auto& [args, says] : cases) {
        const auto p = parse_publisher_args(args);
        EXPECT_FALSE(p.options) << says;
        EXPECT_NE(p.err.find(says), std::string::npos) << says << ": " << p.err;
    }
}

TEST(ProgramOptions, StartingAtPutsOneNodeFirstAndTheRestInListOrder) {
    mqtt::ConnectOptions o;
    o.host = "a";
    o.port = 1;
    o.failover = {{"b", 2}, {"c", 3}};
    const mqtt::ConnectOptions c = mqtt::starting_at(o, 2);
    EXPECT_EQ(c.host, "c");
    EXPECT_EQ(c.port, 3);
    EXPECT_EQ(c.failover, (std::vector<mqtt::BrokerAddress>{{"a", 1}, {"b", 2}}));
    EXPECT_EQ(mqtt::starting_at(o, 3).host, "a");
}

TEST(ProgramOptions, MetricsListenOnEveryInterfaceUnlessAnAddressIsGiven) {
    const auto every = parse_subscriber_args(sub({"--metrics-port", "9464"}));
    ASSERT_TRUE(every.options && every.options->output.metrics);
    EXPECT_EQ(every.options->output.metrics->address, "0.0.0.0");
    for (const auto& [given, bound] :
         {std::pair<std::string, std::string>{"127.0.0.1", "127.0.0.1"}, {"::1", "::1"}}) {
        const auto p = parse_publisher_args(
            pub({"--metrics-address", given, "--metrics-port", "9464"}));  // in either order
        ASSERT_TRUE(p.options && p.options->output.metrics) << p.err;
        EXPECT_EQ(p.options->output.metrics->address, bound);
        EXPECT_EQ(p.options->output.metrics->port, 9464);
    }
}

TEST(PublisherOptions, HelpExitsZeroWithExamplesAndExitStatuses) {
    const auto p = parse_publisher_args(pub({"--help"}));
    EXPECT_FALSE(p.options);
    EXPECT_EQ(p.exit_status, 0);
    EXPECT_NE(p.out.find("Examples"), std::string::npos);
    EXPECT_NE(p.out.find("130"), std::string::npos);
}

struct BadArgs {
    const char* name;
    std::vector<std::string> args;
    const char* mentions;
};
// Names the case in test output instead of dumping its bytes.
void PrintTo(const BadArgs& c, std::ostream* os) {
    *os << c.name;
}

class PublisherBadArgs : public testing::TestWithParam<BadArgs> {};

TEST_P(PublisherBadArgs, AreAUsageErrorNamingTheProblem) {
    std::vector<std::string> args{"mqtt_publisher"};
    args.insert(args.end(), GetParam().args.begin(), GetParam().args.end());
    const auto p = parse_publisher_args(args);
    EXPECT_FALSE(p.options);
    EXPECT_EQ(p.exit_status, 2);
    EXPECT_NE(p.err.find(GetParam().mentions), std::string::npos) << p.err;
    EXPECT_EQ(p.err.find('\n'), std::string::npos) << "one line: " << p.err;
}

INSTANTIATE_TEST_SUITE_P(
    Validation, PublisherBadArgs,
    testing::Values(
        BadArgs{"qos3", {"-q", "3"}, "qos"}, BadArgs{"qos_text", {"--qos", "one"}, "qos"},
        BadArgs{"port0", {"-p", "0"}, "port"}, BadArgs{"port_too_big", {"-p", "70000"}, "port"},
        BadArgs{"count0", {"-n", "0"}, "count"}, BadArgs{"negative_count", {"-n", "-5"}, "count"},
        BadArgs{"window0", {"--window", "0"}, "window"},
        BadArgs{"window_beyond_the_packet_ids", {"--window", "65535"}, "window"},
        BadArgs{"window_max_beyond_the_packet_ids", {"--window-max", "65520"}, "window-max"},
        BadArgs{"window_word", {"--window", "big"}, "window"},
        BadArgs{"negative_rate", {"--rate", "-1"}, "rate"},
        BadArgs{"unknown_flag", {"--frobnicate"}, "frobnicate"},
        BadArgs{"wildcard_topic", {"-t", "sensors/#"}, "--topic"},
        BadArgs{"bad_prefix", {"--device-prefix", "a/b"}, "--device-prefix"},
        BadArgs{"bad_run_id", {"--run-id", "x y"}, "--run-id"},
        BadArgs{"password_alone", {"-P", "secret"}, "--username"},
        BadArgs{"devices_over_count", {"-n", "5", "-d", "10"}, "--devices"},
        BadArgs{"stray_argument", {"extra"}, "extra"},
        BadArgs{"shard_without_run_id", {"--shard", "1/2"}, "--run-id"},
        BadArgs{"host_list_port0", {"-h", "a:0"}, "'a:0': the port must be"},
        BadArgs{"host_list_empty_entry", {"-h", "a,,b"}, "'': no host name"},
        BadArgs{"host_list_twice", {"-h", "a:1,b,a:1"}, "--host lists a:1 twice"},
        BadArgs{"host_list_bracket", {"-h", "[::1"}, "no ']'"},
        BadArgs{"host_list_libmosquitto",
                {"-h", "a,b", "--client", "libmosquitto"},
                "needs --client native"},
        BadArgs{"spread_unknown", {"--spread", "random"}, "--spread"},
        BadArgs{"shard_beyond", {"--shard", "3/2", "--run-id", "r"}, "--shard"},
        BadArgs{"shard_word", {"--shard", "half", "--run-id", "r"}, "--shard"},
        BadArgs{"more_shards_than_devices",
                {"--shard", "1/20", "--run-id", "r", "-d", "10"},
                "--devices"}),
    [](const testing::TestParamInfo<BadArgs>& p) { return std::string(p.param.name); });

TEST(SubscriberOptions, DefaultsSubscribeToAllSensors) {
    const auto s = parse_subscriber_args(sub({}));
    ASSERT_TRUE(s.options) << s.err;
    EXPECT_EQ(s.options->topics, std::vector<std::string>{"sensors/+/telemetry"});
    EXPECT_FALSE(s.options->count);
    EXPECT_EQ(s.options->idle_timeout_s, 30.0);
}

TEST(SubscriberOptions, TopicIsRepeatable) {
    const auto s = parse_subscriber_args(sub({"-t", "a/#", "-t", "b/+", "-C", "10"}));
    ASSERT_TRUE(s.options) << s.err;
    EXPECT_EQ(s.options->topics, (std::vector<std::string>{"a/#", "b/+"}));
    EXPECT_EQ(s.options->count, 10u);
}

TEST(SubscriberOptions, QosAndPrintAsMosquittoSubUsersTypeThem) {
    const auto s = parse_subscriber_args(sub({"-q", "2", "--print"}));
    ASSERT_TRUE(s.options) << s.err;
    EXPECT_EQ(s.options->qos, 2);
    EXPECT_TRUE(s.options->print);
    const auto d = parse_subscriber_args(sub({}));
    ASSERT_TRUE(d.options) << d.err;
    EXPECT_EQ(d.options->qos, 1);
    EXPECT_FALSE(d.options->print);
}

TEST(ProgramOptions, VersionPrintsTheProgramAndVersionAndExitsZero) {
    const auto p = parse_publisher_args(pub({"--version"}));
    EXPECT_FALSE(p.options);
    EXPECT_EQ(p.exit_status, 0);
    EXPECT_EQ(p.out, version_text("mqtt_publisher") + "\n");
    const auto s = parse_subscriber_args(sub({"--version"}));
    EXPECT_EQ(s.exit_status, 0);
    EXPECT_EQ(s.out, version_text("mqtt_subscriber") + "\n");
    EXPECT_NE(s.out.find(" 0."), std::string::npos) << s.out;  // the project's version
}

TEST(SubscriberArgs, EachTopicWithSIsSubscribedPerConnectionNumberedAcrossTheFleet) {
    const auto s = parse_subscriber_args({"mqtt_subscriber", "--connections", "3",
                                          "--subscriptions-per-connection", "2", "-t",
                                          "sensors/sensor-{s}/telemetry", "-t", "site/{n}/#"});
    ASSERT_TRUE(s.options) << s.err;
    EXPECT_EQ(member_topics(*s.options, 2),
              (std::vector<std::string>{"sensors/sensor-0003/telemetry",
                                        "sensors/sensor-0004/telemetry", "site/2/#"}));
    const auto one = parse_subscriber_args(
        {"mqtt_subscriber", "--subscriptions-per-connection", "3", "-t", "a/{s}"});
    ASSERT_TRUE(one.options) << one.err;
    EXPECT_EQ(one.options->topics, (std::vector<std::string>{"a/0001", "a/0002", "a/0003"}))
        << "one subscriber has its filters at once";
}

class SubscriberBadArgs : public testing::TestWithParam<BadArgs> {};

TEST_P(SubscriberBadArgs, AreAUsageErrorNamingTheProblem) {
    std::vector<std::string> args{"mqtt_subscriber"};
    args.insert(args.end(), GetParam().args.begin(), GetParam().args.end());
    const auto s = parse_subscriber_args(args);
    EXPECT_FALSE(s.options);
    EXPECT_EQ(s.exit_status, 2);
    EXPECT_NE(s.err.find(GetParam().mentions), std::string::npos) << s.err;
}

INSTANTIATE_TEST_SUITE_P(
    Validation, SubscriberBadArgs,
    testing::Values(
        BadArgs{"count0", {"-C", "0"}, "count"},
        BadArgs{"metrics_address_alone",
                {"--metrics-address", "127.0.0.1"},
                "--metrics-address: needs --metrics-port"},
        BadArgs{"metrics_address_twice",
                {"--metrics-port", "127.0.0.1:0", "--metrics-address", "::1"},
                "--metrics-port already names an address"},
        BadArgs{"metrics_address_name",
                {"--metrics-port", "9464", "--metrics-address", "localhost"},
                "not a numeric"},
        BadArgs{"idle0", {"--idle-timeout", "0"}, "idle"},
        BadArgs{"empty_topic", {"-t", ""}, "topic"},
        BadArgs{"multi_level_wildcard_not_last",
                {"-t", "sensors/#/data"},
                "--topic: '#' must be the whole last level"},
        BadArgs{"single_level_wildcard_in_a_level",
                {"-t", "sensors/a+"},
                "--topic: '+' must be a whole level"},
        BadArgs{"member_template_without_fleet", {"-t", "sensors/{n}/#"}, "needs --connections"},
        BadArgs{"wildcard_control", {"--control-topic", "a/+"}, "--control-topic"},
        BadArgs{"empty_host", {"-h", ""}, "host"},
        BadArgs{"state_dir_clean_session",
                {"--state-dir", "/tmp/x", "--session", "clean"},
                "--state-dir needs --session persistent"},
        BadArgs{"qos3", {"-q", "3"}, "--qos"},
        BadArgs{
            "state_dir_qos0", {"--state-dir", "/tmp/x", "-q", "0"}, "--state-dir needs -q 1 or 2"},
        BadArgs{"share_group_with_slash", {"--share-group", "a/b"}, "--share-group"},
        BadArgs{"share_group_wildcard", {"--share-group", "g+"}, "--share-group"},
        BadArgs{"state_dir_libmosquitto",
                {"--state-dir", "/tmp/x", "--client", "libmosquitto"},
                "libmosquitto sends the PUBACK before"},
        BadArgs{"hold_without_connect_only", {"--hold", "5"}, "--hold and --connect-rate need"},
        BadArgs{"storm_after_the_hold",
                {"--connect-only", "--hold", "5", "--reconnect-storm", "5"},
                "--reconnect-storm 5 must come within --hold 5"},
        BadArgs{"connect_only_counts_no_messages",
                {"--connect-only", "-C", "10"},
                "--count counts messages"},
        BadArgs{"connect_only_libmosquitto",
                {"--connect-only", "--client", "libmosquitto"},
                "--connect-only needs --client native"},
        BadArgs{"storm_with_state_dir",
                {"--reconnect-storm", "1", "--state-dir", "/tmp/x"},
                "--state-dir keeps one subscriber's data: not with --reconnect-storm"}),
    [](const testing::TestParamInfo<BadArgs>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace app

namespace {
// The report's command line can be pasted back into a shell.
TEST(CommandLine, QuotesWhatAShellWouldSplitOrExpand) {
    std::array<std::string, 5> args{"mqtt_publisher", "-n", "10", "--topic", "a b/{device}'s"};
    std::array<char*, 5> argv{};
    for (std::size_t i = 0; i < args.size(); ++i) argv[i] = args[i].data();
    EXPECT_EQ(app::command_line(static_cast<int>(argv.size()), argv.data()),
              R"(mqtt_publisher -n 10 --topic 'a b/{device}'\''s')");
}
}  // namespace

namespace {
// The session's packet-id budget bounds the window: no value the options take is lowered later.
TEST(WindowBudget, TheOptionsTakeNoWindowTheSessionWouldLowerQuietly) {
    const auto defaults = app::parse_publisher_args({"mqtt_publisher"});
    ASSERT_TRUE(defaults.options);
    EXPECT_EQ(defaults.options->connect.max_inflight, mqtt::protocol::kMaxWindow);
    EXPECT_FALSE(app::parse_publisher_args({"mqtt_publisher", "--window-max", "65535"}).options);
    EXPECT_FALSE(app::parse_publisher_args({"mqtt_publisher", "-w", "65535"}).options);
    EXPECT_TRUE(app::parse_publisher_args(
                    {"mqtt_publisher", "-w", std::to_string(mqtt::protocol::kMaxWindow)})
                    .options);
}
}  // namespace

namespace app {
namespace {

TEST(ShardOption, AutoTakesTheShardFromAnIndexedJobsCompletionIndex) {
    const Shard first = parse_shard("auto/4", "0"), last = parse_shard("auto/4", "3");
    EXPECT_EQ(first.index, 1u);
    EXPECT_EQ(last.index, 4u);
    EXPECT_EQ(last.count, 4u);
    EXPECT_TRUE(last.error.empty());
    const Shard given = parse_shard("2/3", nullptr);
    EXPECT_EQ(given.index, 2u);
    EXPECT_EQ(given.count, 3u);
}

TEST(ShardOption, AutoWithoutOrBeyondItsIndexSaysWhy) {
    EXPECT_EQ(parse_shard("auto/4", nullptr).error,
              "auto/4 takes the shard from JOB_COMPLETION_INDEX, which is not set (Kubernetes "
              "sets it in an Indexed Job's pods)");
    EXPECT_EQ(parse_shard("auto/4", "4").error,
              "auto/4: JOB_COMPLETION_INDEX=4 is not a shard's index (0 to 3)");
    EXPECT_NE(parse_shard("auto/4", "x").error, "");
    EXPECT_NE(parse_shard("auto/0", "0").error, "");
    EXPECT_NE(parse_shard("3/2", nullptr).error, "");
    EXPECT_NE(parse_shard("auto/", "0").error, "");
}

}  // namespace
}  // namespace app

namespace app {
namespace {

TEST(CommandTargets, AllDevicesAGroupOfAProfileOrASeededSample) {
    CommanderOptions o;
    o.devices = 3;
    const auto all = command_targets(o, {});
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all.at(2).id, "sensor-0003");
    EXPECT_EQ(all.at(2).n, 3u);
    DeviceGroup rooms, doors;
    rooms.name = "room";
    rooms.devices = 2;
    rooms.id_prefix = "room-";
    doors.name = "door";
    doors.devices = 3;
    doors.id_prefix = "door-";
    o.profile = "home.toml";
    o.group = "door";
    const auto group = command_targets(o, {rooms, doors});
    ASSERT_EQ(group.size(), 3u);
    EXPECT_EQ(group.at(0).id, "door-0001");
    EXPECT_EQ(group.at(0).group, "door");
    o.group = "attic";
    EXPECT_THROW(command_targets(o, {rooms, doors}), std::runtime_error);
    o.profile.clear();
    o.group.clear();
    o.devices = 10'000;
    o.sample = 0.1;
    const auto sample = command_targets(o, {});
    EXPECT_GT(sample.size(), 850u);
    EXPECT_LT(sample.size(), 1150u);
    EXPECT_EQ(command_targets(o, {}).at(0).id, sample.at(0).id) << "the same --seed";
    o.seed = 2;
    EXPECT_NE(command_targets(o, {}).at(0).id, sample.at(0).id);
}

}  // namespace
}  // namespace app

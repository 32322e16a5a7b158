#include <fmt/format.h>

#include <cstdlib>

#include "app/cli_parse.hpp"
#include "app/exit_status.hpp"
#include "app/subscriber.hpp"
#include "mqtt/protocol/topic_filter.hpp"
#include "store/reading_store.hpp"
#include "telemetry/device_status.hpp"
#include "telemetry/payload.hpp"

namespace app {

std::vector<std::string> telemetry_filters(const SubscriberOptions& o) {
    if (o.share_group.empty()) return o.topics;
    std::vector<std::string> shared;
    for (const std::string& t : o.topics) shared.push_back("$share/" + o.share_group + "/" + t);
    return shared;
}

std::string expand_member_template(std::string_view filter, std::uint32_t member) {
    return replace_all(filter, "{n}", std::to_string(member));
}

std::vector<std::string> member_topics(const SubscriberOptions& o, std::uint32_t member) {
    std::vector<std::string> topics;
    const std::uint64_t per = o.subscriptions_per_connection;
    for (const std::string& t : o.topics) {
        const std::string filter = expand_member_template(t, member);
        if (filter.find("{s}") == std::string::npos) {
            topics.push_back(filter);
            continue;
        }
        for (std::uint64_t j = 1; j <= per; ++j)
            topics.push_back(
                replace_all(filter, "{s}", fmt::format("{:04}", (member - 1) * per + j)));
    }
    return topics;
}

mqtt::ConnectOptions member_connect(const SubscriberOptions& o, std::uint32_t member) {
    mqtt::ConnectOptions c = o.connect;
    c.client_id = fmt::format("{}-{}", o.connect.client_id, member);
    return mqtt::starting_at(std::move(c), (member - 1) % mqtt::broker_list(o.connect).size());
}

namespace {

// What to subscribe to and what to follow besides the telemetry.
void add_subscription_flags(CLI::App& cli, SubscriberOptions& o) {
    cli.add_option("-t,--topic", o.topics,
                   "Topic filter to subscribe to (repeatable); with --connections, {n} is the "
                   "subscriber's number (1 to N). Only the devices whose topic (in the run "
                   "summary) a filter matches are expected")
        ->capture_default_str();
    cli.add_option("-q,--qos", o.qos,
                   "QoS of the telemetry subscription: 0, 1 or 2 (the control topics always use 1)")
        ->capture_default_str()
        ->check(CLI::Range(0, 2));
    cli.add_flag("--print", o.print,
                 "Print every intact reading as one JSON line on stdout (for jq); the result "
                 "lines then go to stderr");
    cli.add_option("--control-topic", o.control_topic, "Topic of the publishers' run summaries")
        ->capture_default_str();
    cli.add_option("--announce-start", o.announce_shards,
                   "Once subscribed, announce the start of run --start-run for N publisher "
                   "shards (retained on telemetry/run-start/RUN; mqtt_publisher "
                   "--wait-for-start), unless another consumer did")
        ->check(CLI::Range(1, 65535));
    cli.add_option("--start-run", o.start_run,
                   "The run --announce-start starts (default: $MQTT_TELEMETRY_RUN_ID)");
    cli.add_option("--start-delay", o.start_delay_s,
                   "Seconds from the announcement to the start, at least (rounded up to a "
                   "whole 5 s, so that consumers announcing together name the same instant)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 3600.0));
    cli.add_option("--status-topic", o.status_topic,
                   "Follow the devices' online/offline status here (one '+' level: the device); "
                   "\"\" to not follow it")
        ->capture_default_str();
    cli.add_option("--repair-topic", o.repair_topic,
                   "Ask publishers with a replay buffer for missing messages on TOPIC/<run>")
        ->capture_default_str();
    cli.add_flag("!--no-repair", o.repair, "Never ask publishers to send missing messages again");
    cli.add_flag("--check-retained", o.check_retained,
                 "Once the run is complete, subscribe again and check that the broker retained "
                 "each expected device's last reading (mqtt_publisher --retain), as a subscriber "
                 "that connects later sees it: stale or missing last values fail the run");
    cli.add_option("--share-group", o.share_group,
                   "Join consumer group G: subscribe to the telemetry topics as $share/G/TOPIC, so "
                   "that the group's members split the messages (run summaries are not shared). "
                   "Each member verifies its share (corrupt, malformed, duplicates) and ends once "
                   "every summary is in and nothing arrived for 2 s; merge the members' --report "
                   "files with mqtt_report for the run's verdict. No repair requests");
    cli.add_option("--connections", o.connections,
                   "N subscribers on one event loop, each its own client id (ID-1 ... ID-N), "
                   "session and ledger, on the same topics: verified when every one of them "
                   "received every message (fan-out; with --share-group, N members that split "
                   "them). The report holds each subscriber as a consumer")
        ->capture_default_str()
        ->check(CLI::Range(std::uint32_t{1}, std::uint32_t{19000}));
    cli.add_option(
           "--subscriptions-per-connection", o.subscriptions_per_connection,
           "Subscribe each --topic with {s} K times per connection, {s} numbered across "
           "the fleet as device ids are (0001, 0002, ...): -t 'sensors/sensor-{s}/telemetry' "
           "--connections 10 --subscriptions-per-connection 1000 subscribes to 10,000 "
           "device topics, 1,000 per connection")
        ->capture_default_str()
        ->check(CLI::Range(std::uint32_t{1}, std::uint32_t{100000}));
}

// The connections themselves as the workload (app/connection_hold.hpp).
void add_connection_workload_flags(CLI::App& cli, SubscriberOptions& o) {
    cli.add_flag("--connect-only", o.connect_only,
                 "Verify no data: open --connections N at --connect-rate, subscribe each to "
                 "--topic, hold them --hold seconds with keepalive, then disconnect. Passes when "
                 "every connection came up, was subscribed and stayed; the report's "
                 "\"connections\" holds TCP, TLS, CONNACK and SUBACK time histograms");
    cli.add_option("--hold", o.hold_s, "--connect-only: seconds to hold the connections")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 86400.0));
    cli.add_option("--connect-rate", o.connect_rate,
                   "--connect-only: connections opened per second (0: all at once)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1e6));
    cli.add_option("--reconnect-storm", o.reconnect_storm_s,
                   "S seconds into the hold (or after every subscriber is ready), drop every "
                   "connection at once without DISCONNECT; each comes back at once, its "
                   "persistent session (the default) keeping what was sent meanwhile")
        ->check(CLI::Range(0.0, 86400.0));
    cli.add_option("--flap-every", o.flap_every_s,
                   "Subscription churn: every S seconds each connection subscribes to "
                   "--flap-topic, the next time unsubscribes, and so on, while its data "
                   "subscriptions stay; SUBACK and UNSUBACK times go to the report")
        ->check(CLI::Range(0.001, 86400.0));
    cli.add_option("--flap-topic", o.flap_topic,
                   "--flap-every's filter ({n}: the connection's number); best one no data "
                   "matches, so that the flapping changes no subscriber's deliveries")
        ->capture_default_str();
}

// When the run ends, what fails it, and what is kept.
void add_end_and_keeping_flags(CLI::App& cli, SubscriberOptions& o) {
    cli.add_option(
           "-C,--count", o.count,
           "Finish after N unique messages (default: when the run summary says all arrived)")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000'000}));
    cli.add_option("--idle-timeout", o.idle_timeout_s, "Finish after S seconds without a message")
        ->capture_default_str()
        ->check(CLI::Range(0.1, 86400.0));
    cli.add_option("--max-gaps", o.max_gaps, "Gap ranges listed in the report")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{0}, std::size_t{100000}));
    cli.add_option("--receive-maximum", o.connect.receive_maximum,
                   "MQTT 5: unacknowledged messages the broker may send at once (Mosquitto uses it "
                   "instead of max_inflight_messages)")
        ->capture_default_str()
        ->check(CLI::Range(1, 65535));
    cli.add_option("--max-missing", o.thresholds.max_missing, "Fail when more messages are missing")
        ->capture_default_str();
    cli.add_option("--max-duplicates", o.thresholds.max_duplicates,
                   "Fail when more duplicates arrived (default: no limit)");
    cli.add_option("--max-p99-ms", o.thresholds.max_p99_ms,
                   "Fail when the end-to-end p99 latency is higher (ms)")
        ->check(CLI::Range(0.0, 1e9));
    cli.add_option("--state-dir", o.state_dir,
                   "Keep the ledger in DIR, durable before each PUBACK: killed and started again "
                   "with the same arguments, the subscriber continues the same run");
    cli.add_option("--store", o.store,
                   "Keep every intact reading in a database: sqlite:FILE or "
                   "postgresql://[user@]host[:port]/db (password: PGPASSWORD or ~/.pgpass); each "
                   "read batch is committed before its PUBACKs leave, so no acknowledged "
                   "reading is lost");
    cli.add_option("--csv", o.csv_file, "Write the per-second timeline as CSV to FILE");
    cli.add_option("--html", o.html_file, "Write a self-contained HTML report to FILE");
}

// --connect-only and its companions.
std::optional<std::string> validate_connection_workload(const SubscriberOptions& s) {
    if (!s.connect_only) {
        if (s.hold_s != 10.0 || s.connect_rate != 0.0)
            return std::string("--hold and --connect-rate need --connect-only");
        return std::nullopt;
    }
    if (s.count) return std::string("--count counts messages: not with --connect-only");
    if (s.reconnect_storm_s && *s.reconnect_storm_s >= s.hold_s)
        return fmt::format("--reconnect-storm {} must come within --hold {}", *s.reconnect_storm_s,
                           s.hold_s);
    return std::nullopt;
}

// --connections, --connect-only, --reconnect-storm: one loop of native clients; what keeps one
// ledger per process is refused.
std::optional<std::string> validate_fleet(const SubscriberOptions& s) {
    if (auto e = validate_connection_workload(s)) return e;
    if (s.connections == 1 && !s.connect_only && !s.reconnect_storm_s) return std::nullopt;
    const char* what = s.connect_only       ? "--connect-only"
                       : s.connections == 1 ? "--reconnect-storm"
                                            : "--connections";
    if (s.engine != mqtt::Engine::Native)
        return fmt::format("{} needs --client native (one event loop for them all)", what);
    const std::pair<bool, const char*> single[] = {
        {!s.state_dir.empty(), "--state-dir"},
        {!s.store.empty(), "--store"},
        {s.print, "--print"},
        {!s.csv_file.empty(), "--csv"},
        {s.output.metrics.has_value(), "--metrics-port"}};
    for (const auto& [given, flag] : single)
        if (given) return fmt::format("{} keeps one subscriber's data: not with {}", flag, what);
    return std::nullopt;
}

std::optional<std::string> validate_announcement(const SubscriberOptions& s) {
    if (s.announce_shards == 0) return std::nullopt;
    if (s.start_run.empty())
        return std::string("--announce-start needs --start-run (or MQTT_TELEMETRY_RUN_ID)");
    if (!telemetry::is_plain_identifier(s.start_run))
        return "--start-run must be 1-64 characters of [A-Za-z0-9._-]";
    if (s.engine != mqtt::Engine::Native)
        return std::string("--announce-start needs --client native (a retained publish)");
    if (s.connections > 1 || s.connect_only)
        return std::string(
            "--announce-start is one consumer's: not with --connections or "
            "--connect-only");
    return std::nullopt;
}

std::optional<std::string> validate_subscriber(const SubscriberOptions& s) {
    if (auto e = validate_connection(s.connect, s.engine)) return e;
    for (const std::string& t : s.topics) {
        // {n} (a fleet member's number) and {s} (a subscription's) stand for a level's text.
        const std::string filter = replace_all(expand_member_template(t, 1), "{s}", "0001");
        if (auto e = mqtt::protocol::topic_filter_error(filter)) return "--topic: " + *e;
        if (expand_member_template(t, 1) != t && s.connections <= 1)
            return std::string("--topic with {n} (the subscriber's number) needs --connections");
    }
    if (auto e = validate_topic_name("--control-topic", s.control_topic)) return e;
    if (auto e = validate_announcement(s)) return e;
    if (!s.status_topic.empty()) try {
            telemetry::DeviceStatusBoard board(s.status_topic);
        } catch (const std::invalid_argument& e) {
            return std::string("--status-topic: ") + e.what();
        }
    if (auto e = validate_topic_name("--repair-topic", s.repair_topic)) return e;
    if (auto e = mqtt::protocol::topic_filter_error(expand_member_template(s.flap_topic, 1)))
        return "--flap-topic: " + *e;
    if (s.check_retained && !s.share_group.empty())
        return std::string(
            "--check-retained: a shared subscription gets no retained messages [MQTT-4.8.2-6]");
    if (!s.share_group.empty() && s.share_group.find_first_of("/+#") != std::string::npos)
        return std::string("--share-group must not contain '/', '+' or '#' [MQTT-4.8.2-2]");
    if (!s.state_dir.empty() && s.connect.clean_session)
        return std::string(
            "--state-dir needs --session persistent: a clean session "
            "loses what the broker queued while we were away");
    if (!s.state_dir.empty() && s.engine != mqtt::Engine::Native)
        return std::string(
            "--state-dir needs --client native: libmosquitto sends the "
            "PUBACK before the program has the message");
    if (!s.store.empty())
        if (auto e = store::check_store_spec(s.store)) return e;
    if (!s.store.empty() && s.engine != mqtt::Engine::Native)
        return std::string(
            "--store needs --client native: libmosquitto sends the PUBACK before the "
            "reading is stored");
    if (!s.state_dir.empty() && s.qos == 0)
        return std::string(
            "--state-dir needs -q 1 or 2: QoS 0 messages are never sent again, so a "
            "crash loses them whatever we keep");
    return validate_fleet(s);
}

// Defaults that depend on other options.
void finish_subscriber(SubscriberOptions& s) {
    s.client_id_given = !s.connect.client_id.empty();
    // A member asking for another member's messages would get them twice.
    if (!s.share_group.empty()) s.repair = false;
    // One subscriber: its filters now; a fleet's members make theirs (member_topics()).
    if (!s.connect_only && !s.runs_as_fleet()) s.topics = member_topics(s, 1);
    apply_session_defaults(s.connect, "mqtt_subscriber");
}

}  // namespace

Parsed<SubscriberOptions> parse_subscriber_args(const std::vector<std::string>& args) {
    SubscriberOptions o;
    if (const char* run = std::getenv("MQTT_TELEMETRY_RUN_ID")) o.start_run = run;
    o.connect.max_inflight = 16;  // the subscriber publishes only repair requests
    o.connect.give_up_after = std::chrono::seconds(300);
    // Persistent by default: messages published while we reconnect wait for us in the broker.
    o.connect.clean_session = false;
    CLI::App cli{
        "mqtt_subscriber - data consumer: receives telemetry, keeps a per-device ledger of\n"
        "sequence numbers and verifies that every message arrived exactly once.",
        "mqtt_subscriber"};
    add_connection_flags(cli, o.connect, o.engine);
    add_session_flags(cli, o.connect);
    add_subscription_flags(cli, o);
    add_connection_workload_flags(cli, o);
    add_end_and_keeping_flags(cli, o);
    add_output_flags(cli, o.output);
    cli.footer(
        std::string(
            "\nExamples:\n"
            "  mqtt_subscriber -p 1883                     verify a run, end on its summary\n"
            "  mqtt_subscriber -C 10000 --idle-timeout 5   stop after 10,000 unique messages\n"
            "  mqtt_subscriber -t 'sensors/sensor-0001/telemetry' --report sub.json\n"
            "  mqtt_subscriber --max-p99-ms 50 --html report.html --csv timeline.csv\n"
            "  mqtt_subscriber --connect-only --connections 10000 --connect-rate 2000 --hold 30\n\n"
            "A run is verified when nothing is missing (beyond --max-missing), malformed or\n"
            "corrupt and every threshold holds; duplicates and out-of-order deliveries are\n"
            "reported (legal at QoS 1) and fail a run only above --max-duplicates.\n\n") +
        kExitStatusHelp);

    auto parsed = parse_with(cli, o, args, validate_subscriber);
    if (parsed.options) finish_subscriber(*parsed.options);
    return parsed;
}

}  // namespace app

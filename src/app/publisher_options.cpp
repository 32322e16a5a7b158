#include <fmt/format.h>
#include <map>
#include "app/cli_parse.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "app/exit_status.hpp"
#include "app/payload_options.hpp"
#include "app/publisher.hpp"
#include "mqtt/multi_client.hpp"
#include "mqtt/protocol/session.hpp"
#include "net/socket.hpp"
#include "sim/message_numbering.hpp"
#include "telemetry/payload.hpp"
#include "telemetry/payload_format.hpp"

namespace app {
namespace {

std::optional<std::string> validate_fleet(const PublisherOptions& p) {
    for (const std::string& a : p.bind_addresses)
        if (!net::numeric_address(a, 0))
            return "--bind-address " + a + " is not a numeric IP address";
    if (p.churn > 0 && !p.per_device) return std::string("--churn needs --connections per-device");
    if (p.churn > 0 && p.rate <= 0 && p.interval_ms <= 0)
        return std::string("--churn needs a schedule (--rate or --interval)");
    if (!p.fleet() && !p.connections_auto) return std::nullopt;
    if (p.engine != mqtt::Engine::Native)
        return "--connections other than 1 needs the native engine (--client native)";
    const std::uint64_t connections = p.per_device ? p.devices : p.connections;
    if (connections > p.devices)
        return fmt::format("--connections {} exceeds --devices ({})", connections, p.devices);
    if (connections > mqtt::MultiClient::kMaxConnections)
        return fmt::format("{} connections: at most {} per process", connections,
                           mqtt::MultiClient::kMaxConnections);
    if (auto e = validate_topic_name("--status-topic", p.status_topic)) return e;
    if (p.replay_buffer > 0) return std::string("--replay-buffer needs --connections 1");
    if (!p.state_dir.empty()) return std::string("--state-dir needs --connections 1");
    return std::nullopt;
}

// --profile: the groups replace the fleet flags; the run lasts the profile's duration (or
// --duration), each device sending duration / its interval readings.
std::optional<std::string> apply_profile(PublisherOptions& p, const CLI::App& cli) {
    FleetProfile profile;
    try {
        profile = load_fleet_profile(p.profile_file);
    } catch (const ProfileError& e) {
        return std::string("--profile ") + e.what();
    }
    if (cli.count("--duration") == 0 && profile.duration_s) p.duration_s = *profile.duration_s;
    if (p.duration_s <= 0)
        return std::string("--profile: the profile has no duration (give --duration)");
    if (cli.count("--seed") == 0 && profile.seed) p.seed = *profile.seed;
    p.groups = std::move(profile.groups);
    p.devices = 0;
    p.count = 0;
    p.rate = 0.0;
    p.qos = 0;
    for (const DeviceGroup& g : p.groups) {
        p.devices += g.devices;
        p.rate += static_cast<double>(g.devices) * 1000.0 / g.interval_ms;
        p.count += g.devices * readings_per_device(g, p.duration_s);
        p.qos = std::max(p.qos, g.qos);
    }
    if (p.connections == 1 && !p.connections_auto)
        p.per_device = true;  // a fleet is connections of its own
    for (DeviceGroup& g : p.groups) {
        if (g.churn > 0 && !p.per_device)
            return fmt::format(
                "--profile: group '{}' has churn, which needs a connection per "
                "device (not --connections N)",
                g.name);
        if (!g.host) continue;
        if (!p.per_device)
            return fmt::format(
                "--profile: group '{}' has its own host, which needs a connection per device "
                "(not --connections N)",
                g.name);
        try {
            g.endpoint =
                std::make_shared<const mqtt::BrokerEndpoint>(endpoint_of(*g.host, p.connect));
        } catch (const std::invalid_argument& e) {
            return fmt::format("--profile: group '{}': host {}", g.name, e.what());
        }
    }
    return std::nullopt;
}

}  // namespace

Shard parse_shard(const std::string& text, const char* completion_index) {
    unsigned i = 0, n = 0;
    char slash = 0, rest = 0;
    const bool automatic = text.rfind("auto/", 0) == 0;
    const int fields = automatic ? std::sscanf(text.c_str() + 5, "%u%c", &n, &rest) + 2
                                 : std::sscanf(text.c_str(), "%u%c%u%c", &i, &slash, &n, &rest);
    if (fields != 3 || (!automatic && slash != '/') || n < 1 || n > 65535)
        return {0, 0, "must be I/N with 1 <= I <= N <= 65535 (e.g. 2/3), or auto/N"};
    if (automatic) {
        if (completion_index == nullptr)
            return {0, 0,
                    fmt::format("auto/{} takes the shard from {}, which is not set (Kubernetes "
                                "sets it in an Indexed Job's pods)",
                                n, kShardIndexVariable)};
        unsigned index = 0;
        if (std::sscanf(completion_index, "%u%c", &index, &rest) != 1 || index >= n)
            return {0, 0,
                    fmt::format("auto/{}: {}={} is not a shard's index (0 to {})", n,
                                kShardIndexVariable, completion_index, n - 1)};
        i = index + 1;
    }
    if (i < 1 || i > n) return {0, 0, "must be I/N with 1 <= I <= N <= 65535, e.g. 2/3"};
    return {i, n, {}};
}

namespace {

// --shard I/N: this process keeps its devices and their messages (count and rate).
std::optional<std::string> apply_shard(PublisherOptions& p) {
    p.devices_total = p.devices;
    if (p.shards == 1) return std::nullopt;
    if (p.run_id.empty())
        return std::string("--shard needs --run-id: every shard of a run shares it");
    if (p.shards > p.devices)
        return fmt::format("--shard {}/{}: more shards than --devices ({})", p.shard, p.shards,
                           p.devices);
    if (p.from_profile()) return std::string("--shard does not take a --profile yet");
    if (p.replay_buffer > 0) return std::string("--shard does not take --replay-buffer yet");
    const sim::MessageNumbering numbering{p.devices};
    std::uint64_t mine = 0, count = 0;
    for (std::uint64_t d = p.shard - 1; d < p.devices; d += p.shards) {
        ++mine;
        count += numbering.readings_of(d, p.count);
    }
    p.rate = p.rate * static_cast<double>(mine) / static_cast<double>(p.devices);
    p.devices = mine;
    p.count = count;
    return std::nullopt;
}

}  // namespace

std::uint64_t readings_per_device(const DeviceGroup& group, double duration_s) {
    return std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::llround(duration_s * 1000.0 / group.interval_ms)));
}

namespace {

// How much, how fast and how many in flight.
void add_run_flags(CLI::App& cli, PublisherOptions& o) {
    cli.add_option("-n,--count", o.count, "Messages to publish in total")
        ->each([&o](const std::string&) { o.count_given = true; })
        ->capture_default_str()
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000'000}));
    cli.add_option("-q,--qos", o.qos, "QoS of the telemetry messages (0, 1 or 2)")
        ->capture_default_str()
        ->check(CLI::Range(0, 2));
    cli.add_option_function<std::string>(
           "-w,--window",
           [&o](const std::string& value) {
               o.window_auto = value == "auto";
               if (!o.window_auto) o.connect.max_inflight = std::stoul(value);
           },
           "Unconfirmed messages allowed in flight: auto (default; the smallest window that "
           "keeps the highest rate, so the broker's queues stay short) or N (fixed; bounds "
           "memory either way)")
        ->check(CLI::IsMember({"auto"}) | CLI::Range(std::size_t{1}, mqtt::protocol::kMaxWindow));
    cli.add_option("--window-max", o.window_max, "The largest window auto may choose")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{16}, PublisherOptions::kWindowMaxLimit));
    cli.add_option("-r,--rate", o.rate, "Messages per second, 0 = as fast as possible")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1e9));
    cli.add_option("--max-schedule-lag-ms", o.max_schedule_lag_ms,
                   "With a schedule (--rate, --interval, a fleet): fail the run (exit 1) when a "
                   "message goes out more than MS after it was due, because its latency figure "
                   "would then be the generator's lag; 0 = never")
        ->check(CLI::NonNegativeNumber);
    cli.add_flag("--retain", o.retain,
                 "Publish every reading retained: the broker keeps each device's last value for "
                 "later subscribers (mqtt_subscriber --check-retained checks them)");
    cli.add_flag("--require-subscribers", o.require_subscribers,
                 "Fail the run (exit 1) when the broker says a message had no subscriber (MQTT 5 "
                 "reason 0x10); without it such messages are counted (no_subscribers) and warned "
                 "about once");
    auto* interval =
        cli.add_option("--interval", o.interval_ms,
                       "Each device sends every MS milliseconds (the devices take turns, evenly "
                       "spaced): the same as --rate devices*1000/MS")
            ->check(CLI::Range(0.001, 86'400'000.0));
    cli.add_option("--duration", o.duration_s,
                   "Run for S seconds at the rate (--rate or --interval): the same as --count "
                   "rate*S")
        ->check(CLI::Range(0.001, 31'536'000.0));
    cli.get_option("--rate")->excludes(interval);
}

// --commands: devices that take commands and answer them.
void add_command_flags(CLI::App& cli, PublisherOptions& o) {
    cli.add_flag("--commands", o.commands,
                 "The devices take commands (from any MQTT client): each subscribes to its "
                 "--command-topic and answers what arrives, accepted at once and done after "
                 "--command-service-ms, on the command's Response Topic (MQTT 5) or the reply "
                 "topic it names");
    cli.add_option("--command-topic", o.command_topic,
                   "A device's command topic ({device}, {n}, {group} as in profiles)")
        ->capture_default_str();
    cli.add_option("--command-service-ms", o.command_service_ms,
                   "How long a device takes to execute a command")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 3'600'000.0));
    cli.add_option("--command-failure-rate", o.command_failure_rate,
                   "The share of commands that fail (0 to 1; which ones follows --seed)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
    cli.add_option("--command-dedupe", o.command_dedupe,
                   "on (default): a device recognises a redelivered command by its id and does "
                   "not run it again; off: it runs it again (and its answer says so)")
        ->capture_default_str();
    cli.add_option("--command-linger", o.command_linger_s,
                   "Seconds the devices keep taking commands after their telemetry ends "
                   "(answers already due are sent in any case)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 86'400.0));
}

// The simulated devices and what each message carries; repair and resume.
void add_device_flags(CLI::App& cli, PublisherOptions& o) {
    cli.add_option("-d,--devices", o.devices, "Simulated devices; messages go to them in turn")
        ->capture_default_str()
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000}));
    cli.add_option("--device-prefix", o.device_prefix, "Device ids are PREFIX0001, PREFIX0002, ...")
        ->capture_default_str();
    cli.add_option("-t,--topic", o.topic, "Topic template; {device} is replaced by the device id")
        ->capture_default_str();
    cli.add_option("--control-topic", o.control_topic, "Topic of the run summary sent at the end")
        ->capture_default_str();
    cli.add_option("--seed", o.seed, "Seed of the simulated sensor values")->capture_default_str();
    cli.add_option("--fault-rate", o.fault_rate,
                   "Chance per reading that a sensor fails for a while (stuck value, spike or "
                   "dropout, marked in the payload's \"fault\"); 0 for none")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
    cli.add_option("--run-id", o.run_id,
                   "Run id written into every message (default: $MQTT_TELEMETRY_RUN_ID, or "
                   "random)");
    cli.add_option("--drain-timeout", o.drain_timeout_s,
                   "Seconds to wait for outstanding confirmations at the end or on Ctrl-C")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 3600.0));
    cli.add_option("--replay-buffer", o.replay_buffer,
                   "Keep the last N messages and send them again when a consumer asks for them "
                   "(end-to-end repair; memory: about 200 bytes per message)")
        ->check(CLI::Range(std::size_t{0}, std::size_t{100'000'000}));
    cli.add_option("--repair-topic", o.repair_topic, "Topic prefix of repair requests")
        ->capture_default_str();
    cli.add_option("--repair-linger", o.repair_linger_s,
                   "With --replay-buffer: seconds to wait for repair requests after the summary")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 86400.0));
    cli.add_option("--state-dir", o.state_dir,
                   "Keep the run's progress in DIR: killed and started again with the same "
                   "arguments, the publisher resumes the same run");
}

// A fleet of connections: how they are opened, spread, dropped and named.
void add_fleet_flags(CLI::App& cli, PublisherOptions& o) {
    cli.add_option_function<std::string>(
           "--connections",
           [&o](const std::string& value) {
               o.per_device = value == "per-device";
               o.connections_auto = value == "auto";
               if (!o.per_device && !o.connections_auto) o.connections = std::stoull(value);
           },
           "1 (default: all devices over one connection), N (devices spread over N connections), "
           "auto (as many as the broker's Receive Maximum needs for 200 messages in flight, at "
           "most 8) or per-device (each device its own connection, client id and last will, "
           "like hardware; native engine)")
        ->check(CLI::IsMember({"per-device", "auto"}) |
                CLI::Range(std::uint64_t{1}, std::uint64_t{65536}));
    cli.add_option("--connect-rate", o.connect_rate,
                   "With --connections: connections opened per second while the fleet ramps up "
                   "(0: all at once)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1e6));
    const std::map<std::string, PublisherOptions::Spread> spreads{
        {"round-robin", PublisherOptions::Spread::RoundRobin},
        {"hash", PublisherOptions::Spread::Hash}};
    cli.add_option("--spread", o.spread,
                   "With --connections and a --host list: connection i on node i mod nodes "
                   "(round-robin, default), or by a hash of its client id, so that a device "
                   "always lands on the same node (hash)")
        ->transform(CLI::CheckedTransformer(spreads, CLI::ignore_case))
        ->option_text("round-robin|hash");
    cli.add_option("--bind-address", o.bind_addresses,
                   "Connect from these local addresses (repeatable or comma-separated), spread "
                   "over the connections: each address has ~28,000 ports to one broker port")
        ->delimiter(',');
    cli.add_option("--status-topic", o.status_topic,
                   "With --connections per-device: each device publishes a retained 'online' "
                   "here and leaves 'offline' as its last will ({device}: the device id)")
        ->capture_default_str();
    cli.add_option_function<double>(
           "--jitter", [&o](double pct) { o.jitter = pct / 100.0; },
           "With --connections: each device's interval varies at random by up to PCT percent "
           "(default 10)")
        ->check(CLI::Range(0.0, 100.0));
    cli.add_option("--churn", o.churn,
                   "With --connections per-device: this share of the devices (0-1) each drop "
                   "their connection once without DISCONNECT (the broker says offline for them) "
                   "and come back after --churn-downtime, carrying on with their readings")
        ->check(CLI::Range(0.0, 1.0));
    cli.add_option("--churn-downtime", o.churn_downtime_s, "Seconds a churned device stays away")
        ->capture_default_str()
        ->check(CLI::Range(0.001, 3600.0));
    cli.add_option("--client-id-template", o.client_id_template,
                   "With --connections per-device: each device's client id; {device} (its id), "
                   "{n} (its number) and {group}")
        ->capture_default_str();
}

// A fleet profile replaces the flags it describes.
void add_profile_flag(CLI::App& cli, PublisherOptions& o) {
    auto* profile =
        cli.add_option("--profile", o.profile_file,
                       "A fleet profile (TOML): groups of devices with their own count, interval, "
                       "QoS, topic, client id, churn and sensors; it runs for its duration (or "
                       "--duration), one connection per device unless --connections N")
            ->check(CLI::ExistingFile);
    for (const char* flag :
         {"--devices", "--interval", "--rate", "--count", "--topic", "--device-prefix", "--churn",
          "--jitter", "--fault-rate", "--qos", "--client-id-template"})
        profile->excludes(cli.get_option(flag));
}

// One shard of several publishers sharing a run.
void add_shard_flag(CLI::App& cli, PublisherOptions& o) {
    cli.add_option_function<std::string>(
        "--shard",
        [&o](const std::string& value) {
            const Shard shard = parse_shard(value, std::getenv(kShardIndexVariable));
            if (!shard.error.empty()) throw CLI::ValidationError("--shard", shard.error);
            o.shard = shard.index;
            o.shards = shard.count;
        },
        "I/N: this process is shard I of N publishers sharing one run (the same --run-id): "
        "it sends the devices d with d % N = I-1 (ids and values as in one process) and "
        "their messages; the subscriber waits for all N summaries. auto/N: I is "
        "JOB_COMPLETION_INDEX + 1 (a Kubernetes Indexed Job's pod)");
}

// Checks the options together and derives the count and rate; the problem, if any.
std::optional<std::string> validate_publisher(PublisherOptions& p, CLI::App& cli) {
    if (p.from_profile())
        if (auto e = apply_profile(p, cli)) return e;
    if (auto e = validate_connection(p.connect, p.engine)) return e;
    if (p.device_prefix.size() > 56 || !telemetry::is_plain_identifier(p.device_prefix + "0"))
        return "--device-prefix must be at most 56 characters of [A-Za-z0-9._-]";
    if (const char* from_env = std::getenv(kRunIdVariable); p.run_id.empty() && from_env)
        p.run_id = from_env;  // one manifest for every shard
    if (!p.run_id.empty() && !telemetry::is_plain_identifier(p.run_id))
        return "--run-id must be 1-64 characters of [A-Za-z0-9._-]";
    if (p.wait_for_start_s > 0 && p.run_id.empty())
        return std::string("--wait-for-start needs --run-id: the start names the run");
    if (auto e = validate_topic_name("--topic", p.topic)) return e;
    if (auto e = validate_topic_name("--control-topic", p.control_topic)) return e;
    if (auto e = validate_payload(p, cli)) return e;
    if (p.retain && p.engine != mqtt::Engine::Native)
        return std::string("--retain needs --client native");
    if (p.retain && p.payload.envelope == telemetry::Envelope::Properties)
        return std::string("--retain sends no user properties: not with --envelope properties");
    if (p.commands)
        if (auto e = validate_topic_name("--command-topic", p.command_topic)) return e;
    if (p.from_profile()) {
        if (auto e = validate_fleet(p)) return e;
        return apply_shard(p);
    }
    if (p.duration_s > 0 && p.rate <= 0 && p.interval_ms <= 0)
        return std::string("--duration needs --rate or --interval");
    if (p.duration_s > 0 && p.count_given)
        return std::string("--duration and --count both set how many to send");
    if (p.devices > p.count && p.duration_s <= 0)
        return fmt::format("--devices ({}) exceeds --count ({})", p.devices, p.count);
    if (auto e = validate_fleet(p)) return e;
    if (p.interval_ms > 0) p.rate = static_cast<double>(p.devices) * 1000.0 / p.interval_ms;
    if (p.duration_s > 0)
        p.count = std::max<std::uint64_t>(
            p.devices, static_cast<std::uint64_t>(std::llround(p.rate * p.duration_s)));
    return apply_shard(p);
}

// Defaults that depend on other options (window, bind address).
void finish_publisher(PublisherOptions& p) {
    apply_session_defaults(p.connect, "mqtt_publisher");
    // QoS 0 has no confirmations to steer by: it keeps the fixed window.
    if (p.qos == 0) p.window_auto = false;
    // The engine's window is then the limit; the controller chooses below it, and control
    // messages (progress, summary) keep room of their own.
    // A fleet's window is per connection: a few messages each, for devices that send
    // now and then.
    if (p.fleet() && p.window_auto)
        p.connect.max_inflight =
            p.commands ? PublisherOptions::kFleetCommandWindow : PublisherOptions::kFleetWindow;
    if (p.fleet()) p.window_auto = false;
    if (p.window_auto && p.engine == mqtt::Engine::Libmosquitto)
        p.window_max = std::min(p.window_max, PublisherOptions::kLibmosquittoWindowMax);
    if (p.window_auto) p.connect.max_inflight = p.window_max + PublisherOptions::kControlRoom;
    if (!p.bind_addresses.empty() && !p.fleet()) p.connect.bind_address = p.bind_addresses[0];
}

}  // namespace

Parsed<PublisherOptions> parse_publisher_args(const std::vector<std::string>& args) {
    PublisherOptions o;
    o.connect.give_up_after = std::chrono::seconds(300);
    CLI::App cli{
        "mqtt_publisher - IoT sensor simulator: publishes telemetry readings of simulated\n"
        "devices to an MQTT broker and counts what the broker confirmed.",
        "mqtt_publisher"};
    add_connection_flags(cli, o.connect, o.engine);
    add_session_flags(cli, o.connect);
    add_run_flags(cli, o);
    add_device_flags(cli, o);
    add_command_flags(cli, o);
    add_payload_flags(cli, o);
    add_fleet_flags(cli, o);
    add_profile_flag(cli, o);
    add_shard_flag(cli, o);
    cli.add_option("--wait-for-start", o.wait_for_start_s,
                   "Wait up to SECONDS for the run's start on telemetry/run-start/RUN (retained, "
                   "from mqtt_subscriber --announce-start) and begin at its time: N shards "
                   "begin together, after the consumers listen")
        ->check(CLI::Range(0.0, 86'400.0));
    cli.add_option("--csv", o.csv_file, "Write the per-second timeline as CSV to FILE");
    add_output_flags(cli, o.output);
    cli.footer(
        std::string("\nExamples:\n"
                    "  mqtt_publisher -p 1883                       1,000,000 readings at QoS 1\n"
                    "  mqtt_publisher -n 10000 -q 2 -d 100 -r 500   100 devices, 500 msg/s, QoS 2\n"
                    "  mqtt_publisher -h broker -u dev -P secret --report pub.json\n\n") +
        kExitStatusHelp);

    auto parsed = parse_with(cli, o, args,
                             [&cli](PublisherOptions& p) { return validate_publisher(p, cli); });
    if (parsed.options) finish_publisher(*parsed.options);
    return parsed;
}

}  // namespace app

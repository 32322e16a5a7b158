#include <fmt/format.h>

#include "app/exit_status.hpp"
#include "app/publisher.hpp"
#include "telemetry/payload.hpp"

namespace app {

Parsed<PublisherOptions> parse_publisher_args(const std::vector<std::string>& args) {
    PublisherOptions o;
    o.connect.give_up_after = std::chrono::seconds(300);
    CLI::App cli{
        "mqtt_publisher - IoT sensor simulator: publishes telemetry readings of simulated\n"
        "devices to an MQTT broker and counts what the broker confirmed.",
        "mqtt_publisher"};
    add_connection_flags(cli, o.connect, o.engine);
    add_session_flags(cli, o.connect);
    cli.add_option("-n,--count", o.count, "Messages to publish in total")
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
        ->check(CLI::IsMember({"auto"}) | CLI::Range(std::size_t{1}, std::size_t{65535}));
    cli.add_option("--window-max", o.window_max, "The largest window auto may choose")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{16}, std::size_t{65527}));
    cli.add_option("-r,--rate", o.rate, "Messages per second, 0 = as fast as possible")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1e9));
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
    cli.add_option("--run-id", o.run_id, "Run id written into every message (default: random)");
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
    cli.add_option("--csv", o.csv_file, "Write the per-second timeline as CSV to FILE");
    add_output_flags(cli, o.output);
    cli.footer(
        std::string("\nExamples:\n"
                    "  mqtt_publisher -p 1883                       1,000,000 readings at QoS 1\n"
                    "  mqtt_publisher -n 10000 -q 2 -d 100 -r 500   100 devices, 500 msg/s, QoS 2\n"
                    "  mqtt_publisher -h broker -u dev -P secret --report pub.json\n\n") +
        kExitStatusHelp);

    auto parsed =
        parse_with(cli, o, args, [](const PublisherOptions& p) -> std::optional<std::string> {
            if (auto e = validate_connection(p.connect)) return e;
            if (p.device_prefix.size() > 56 ||
                !telemetry::is_plain_identifier(p.device_prefix + "0"))
                return "--device-prefix must be at most 56 characters of [A-Za-z0-9._-]";
            if (!p.run_id.empty() && !telemetry::is_plain_identifier(p.run_id))
                return "--run-id must be 1-64 characters of [A-Za-z0-9._-]";
            if (auto e = validate_topic_name("--topic", p.topic)) return e;
            if (auto e = validate_topic_name("--control-topic", p.control_topic)) return e;
            if (p.devices > p.count)
                return fmt::format("--devices ({}) exceeds --count ({})", p.devices, p.count);
            return std::nullopt;
        });
    if (parsed.options) {
        PublisherOptions& p = *parsed.options;
        apply_session_defaults(p.connect, "mqtt_publisher");
        // QoS 0 has no confirmations to steer by: it keeps the fixed window.
        if (p.qos == 0) p.window_auto = false;
        // The engine's window is then the limit; the controller chooses below it, and control
        // messages (progress, summary) keep room of their own.
        if (p.window_auto) p.connect.max_inflight = p.window_max + PublisherOptions::kControlRoom;
    }
    return parsed;
}

}  // namespace app

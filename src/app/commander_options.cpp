#include "app/cli_parse.hpp"
#include "app/commander.hpp"

namespace app {
namespace {

void add_command_run_flags(CLI::App& cli, CommanderOptions& o) {
    cli.add_option("-d,--devices", o.devices, "Devices to command, in turn (sensor-0001 ...)")
        ->capture_default_str()
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10'000'000}));
    cli.add_option("--device-prefix", o.device_prefix, "Device ids: PREFIX0001 ...")
        ->capture_default_str();
    cli.add_option("-n,--count", o.count, "Commands to send in all")
        ->capture_default_str()
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}));
    auto* rate = cli.add_option("-r,--rate", o.rate, "Commands per second, 0 = all at once")
                     ->capture_default_str()
                     ->check(CLI::Range(0.0, 1e7));
    cli.add_option("--every", o.every_s,
                   "One command per device every SECONDS (the rate follows from the devices)")
        ->check(CLI::Range(0.001, 86'400.0))
        ->excludes(rate);
    cli.add_option("--duration", o.duration_s,
                   "Send commands for SECONDS at the rate (the count follows)")
        ->check(CLI::Range(0.001, 31'536'000.0))
        ->excludes(cli.get_option("--count"));
    cli.add_option("--command-topic", o.command_topic,
                   "A device's command topic ({device}: its id)")
        ->capture_default_str();
    cli.add_option("--reply-topic", o.reply_topic,
                   "Where devices answer ({run}: the run id); sent as the MQTT 5 Response Topic "
                   "and in each command as reply_to")
        ->capture_default_str();
    cli.add_option("--name", o.name, "What the commands ask for")->capture_default_str();
    cli.add_option("--run-id", o.run_id, "Run id (default: random)");
    cli.add_option("--command-timeout", o.command_timeout_s,
                   "Seconds a command may take to its final answer; later is late, none by the "
                   "end is lost")
        ->capture_default_str()
        ->check(CLI::Range(0.001, 86'400.0));
    cli.add_option("--max-lost-commands", o.max_lost, "Fail when more commands are lost")
        ->capture_default_str();
    cli.add_option("--max-duplicate-executions", o.max_executed_twice,
                   "Fail when more commands were executed twice")
        ->capture_default_str();
    cli.add_option("--max-command-p99-ms", o.max_p99_ms,
                   "Fail when the round trip's p99 is above MS (0: no limit)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    auto* profile = cli.add_option("--profile", o.profile,
                                   "Command the devices of this fleet profile (the publisher's "
                                   "--profile) instead of -d");
    cli.add_option("--group", o.group, "Only the devices of this group of the --profile")
        ->needs(profile);
    profile->excludes(cli.get_option("--devices"));
    profile->excludes(cli.get_option("--device-prefix"));
    cli.add_option("--sample", o.sample,
                   "Command this share of the devices (0 to 1], a subset chosen by --seed")
        ->capture_default_str()
        ->check(CLI::Range(0.000001, 1.0));
    cli.add_option("--seed", o.seed, "Chooses the --sample")->capture_default_str();
    cli.add_option("--csv", o.csv_file, "Write the per-second timeline as CSV to FILE");
    cli.add_option("--html", o.html_file, "Write a self-contained HTML report to FILE");
}

std::optional<std::string> validate_commander(const CommanderOptions& o) {
    if (auto e = validate_connection(o.connect, o.engine)) return e;
    if (o.duration_s > 0 && o.rate <= 0 && o.every_s <= 0)
        return std::string("--duration needs a --rate or --every");
    if (auto e = validate_topic_name("--command-topic", o.command_topic)) return e;
    if (auto e = validate_topic_name("--reply-topic", o.reply_topic)) return e;
    return std::nullopt;
}

}  // namespace

Parsed<CommanderOptions> parse_commander_args(const std::vector<std::string>& args) {
    CommanderOptions o;
    o.connect.give_up_after = std::chrono::seconds(300);  // as the other programs
    CLI::App cli{
        "mqtt_commander - sends commands to simulated devices (mqtt_publisher "
        "--commands) and accounts for every one: delivered, answered, late, lost, "
        "executed twice.",
        "mqtt_commander"};
    add_connection_flags(cli, o.connect, o.engine);
    add_session_flags(cli, o.connect);
    add_command_run_flags(cli, o);
    add_output_flags(cli, o.output);
    cli.footer(std::string("\nExamples:\n"
                           "  mqtt_commander -p 1883 -d 100 -n 1000 -r 50   1,000 commands to "
                           "100 devices at 50/s\n\n") +
               kExitStatusHelp);
    auto parsed =
        parse_with(cli, o, args, [](CommanderOptions& c) { return validate_commander(c); });
    if (parsed.options) apply_session_defaults(parsed.options->connect, kCommanderProgram);
    return parsed;
}

}  // namespace app

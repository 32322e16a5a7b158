#include "app/report_command.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>

#include "app/cli_parse.hpp"
#include "app/exit_status.hpp"
#include "report/html_report.hpp"
#include "report/merge.hpp"

namespace app {
namespace {

report::Input load(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    nlohmann::json doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object())
        throw std::runtime_error(path + " is not a JSON report");
    return {path, std::move(doc)};
}

std::vector<report::Input> load_all(const std::vector<std::string>& paths) {
    std::vector<report::Input> inputs;
    inputs.reserve(paths.size());
    for (const std::string& path : paths) inputs.push_back(load(path));
    return inputs;
}

// One report is shown as it is; several are merged. A share-group member's report is merged
// even alone: its own verdict leaves out what is missing, the run's verdict must not.
std::optional<report::SubscriberReport> subscribers(std::vector<report::Input> inputs) {
    if (inputs.empty()) return std::nullopt;
    if (inputs.size() == 1) {
        std::string name = inputs.front().name;
        report::SubscriberReport only = report::read_subscriber(std::move(inputs.front()));
        if (!only.sharing()) return only;
        std::vector<report::Named<report::SubscriberReport>> member;
        member.push_back({std::move(name), std::move(only)});
        return report::merge_subscribers(std::move(member));
    }
    return report::merge_subscribers(std::move(inputs));
}

std::optional<report::CommanderReport> commanders(std::vector<report::Input> inputs) {
    if (inputs.empty()) return std::nullopt;
    if (inputs.size() == 1) return report::read_commander(std::move(inputs.front()));
    return report::merge_commanders(std::move(inputs));
}

std::optional<report::PublisherReport> publishers(std::vector<report::Input> inputs) {
    if (inputs.empty()) return std::nullopt;
    if (inputs.size() == 1) return report::read_publisher(std::move(inputs.front()));
    return report::merge_publishers(std::move(inputs));
}

template <class T>
const T* pointer(const std::optional<T>& value) {
    return value ? &*value : nullptr;
}

// The report as JSON, moved rather than copied (the last use of it).
template <class T>
nlohmann::json taken(std::optional<T>&& value) {
    return value ? report::take_into_json(std::move(*value)) : nlohmann::json(nullptr);
}

void write(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path);
}

struct Args {
    std::vector<std::string> pub_paths, sub_paths, cmd_paths;
    std::string html_path, json_path;
};

// The command line into `args`; an exit status when the program ends here (help, an error).
std::optional<int> parse(int argc, char** argv, Args& args) {
    CLI::App cli{
        "mqtt_report - one verdict and one report from the --report JSON files of any number\n"
        "of mqtt_publisher and mqtt_subscriber processes (publisher shards, shared-subscription\n"
        "members, independent consumers). Members of one share group merge exactly: a message\n"
        "two members received is one delivery and one duplicate; a gap in one member that\n"
        "another filled is not missing. Subscribers outside a share group are a fan-out: each\n"
        "(and each share group as a whole) must have received every message on its own.",
        "mqtt_report"};
    cli.add_option("--publisher", args.pub_paths, "mqtt_publisher --report file (repeatable)")
        ->allow_extra_args(false);
    cli.add_option("--subscriber", args.sub_paths, "mqtt_subscriber --report file (repeatable)")
        ->allow_extra_args(false);
    cli.add_option("--commander", args.cmd_paths,
                   "mqtt_commander --report file (repeatable: one per shard's commander); its "
                   "command ledger beside the telemetry's, in the verdict too")
        ->allow_extra_args(false);
    cli.add_option("-o,--output", args.html_path, "HTML file to write");
    cli.add_option("--json", args.json_path,
                   "JSON file to write: {\"verified\", \"failed_checks\", \"publisher\", "
                   "\"subscriber\", \"commander\"}, each part of the shape its program writes "
                   "(src/report/README.md)");
    add_version_flag(cli);
    cli.footer(
        "\nExamples:\n"
        "  mqtt_report --publisher pub.json --subscriber sub.json -o report.html\n"
        "  mqtt_report --publisher shard1.json --publisher shard2.json \\\n"
        "              --subscriber member1.json --subscriber member2.json --json merged.json\n\n"
        "Exit status: 0 verified (every expected message delivered, none corrupt or malformed,\n"
        "the subscribers' thresholds met, every publisher confirmed everything), 1 not\n"
        "verified, 2 usage error or unreadable input.\n");
    try {
        cli.parse(argc, argv);
        if (args.html_path.empty() && args.json_path.empty())
            throw CLI::ValidationError("give -o FILE.html, --json FILE or both");
        if (args.pub_paths.empty() && args.sub_paths.empty() && args.cmd_paths.empty())
            throw CLI::ValidationError("give --publisher, --subscriber, --commander or several");
    } catch (const CLI::CallForHelp&) {
        std::fputs(cli.help().c_str(), stdout);
        return 0;
    } catch (const CLI::CallForVersion& e) {
        std::printf("%s\n", e.what());
        return 0;
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "mqtt_report: error: %s (see --help)\n", e.what());
        return kUsageError;
    }
    return std::nullopt;
}

// "fan-out: 3 consumers (2 independent, 1 share group), 2 of 3 complete, amplification 3.00"
std::string fan_out_line(const report::SubscriberReport& sub) {
    std::size_t independent = 0, complete = 0;
    for (const report::Consumer& c : sub.consumers) {
        independent += c.rule == "independent" ? 1 : 0;
        complete += c.verified ? 1 : 0;
    }
    return fmt::format(
        "fan-out: {} consumers ({} independent, {} share groups), {} of {} complete, "
        "amplification {:.2f} deliveries per published message",
        sub.consumers.size(), independent, sub.consumers.size() - independent, complete,
        sub.consumers.size(), sub.amplification.value_or(0.0));
}

// Reads, merges and judges the reports and writes what was asked; throws on unusable input.
telemetry::Verdict judge_and_write(const Args& args, std::string& fan_out) {
    auto pub = publishers(load_all(args.pub_paths));
    auto sub = subscribers(load_all(args.sub_paths));
    auto cmd = commanders(load_all(args.cmd_paths));
    if (sub && !sub->consumers.empty()) fan_out = fan_out_line(*sub);
    telemetry::Verdict verdict = report::verdict(pointer(pub), pointer(sub), pointer(cmd));
    if (!args.html_path.empty())
        write(args.html_path, report::render_html(pointer(pub), pointer(sub), pointer(cmd)));
    if (!args.json_path.empty())
        write(args.json_path, nlohmann::json{{"verified", verdict.verified()},
                                             {"failed_checks", verdict.failed},
                                             {"publisher", taken(std::move(pub))},
                                             {"subscriber", taken(std::move(sub))},
                                             {"commander", taken(std::move(cmd))}}
                                  .dump(2));
    return verdict;
}

int run(int argc, char** argv) {
    Args args;
    if (const auto status = parse(argc, argv, args)) return *status;
    telemetry::Verdict verdict;
    std::string fan_out;
    try {
        verdict = judge_and_write(args, fan_out);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mqtt_report: error: %s\n", e.what());
        return kUsageError;
    }
    const std::string commanders =
        args.cmd_paths.empty() ? "" : fmt::format(", {} commander", args.cmd_paths.size());
    std::printf("mqtt_report: %s: %zu publisher%s and %zu subscriber reports\n",
                verdict.verified() ? "VERIFIED" : "NOT VERIFIED", args.pub_paths.size(),
                commanders.c_str(), args.sub_paths.size());
    if (!fan_out.empty()) std::printf("mqtt_report: %s\n", fan_out.c_str());
    for (const std::string& f : verdict.failed) std::printf("mqtt_report: failed: %s\n", f.c_str());
    return verdict.verified() ? kSuccess : kVerificationFailed;
}

}  // namespace

int run_report_command(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {  // building the command line itself failed
        std::fprintf(stderr, "mqtt_report: error: %s\n", e.what());
        return kUsageError;
    }
}

}  // namespace app

// mqtt_report: merges a publisher and a subscriber JSON report into one HTML page.

#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>

#include "app/cli_common.hpp"
#include "app/exit_status.hpp"
#include "report/html_report.hpp"

namespace {

std::optional<nlohmann::json> load(const std::string& path) {
    if (path.empty()) return std::nullopt;
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    nlohmann::json doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object())
        throw std::runtime_error(path + " is not a JSON report");
    return doc;
}

int run(int argc, char** argv) {
    std::string pub_path, sub_path, out_path;
    CLI::App cli{
        "mqtt_report - one self-contained HTML report from the --report JSON files of\n"
        "mqtt_publisher and mqtt_subscriber (either may be left out).",
        "mqtt_report"};
    cli.add_option("--publisher", pub_path, "mqtt_publisher --report file");
    cli.add_option("--subscriber", sub_path, "mqtt_subscriber --report file");
    cli.add_option("-o,--output", out_path, "HTML file to write")->required();
    app::add_version_flag(cli);
    cli.footer(
        "\nExample:\n  mqtt_report --publisher pub.json --subscriber sub.json -o report.html\n\n"
        "Exit status: 0 written, 2 usage error or unreadable input.\n");
    try {
        cli.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::fputs(cli.help().c_str(), stdout);
        return 0;
    } catch (const CLI::CallForVersion& e) {
        std::printf("%s\n", e.what());
        return 0;
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "mqtt_report: error: %s (see --help)\n", e.what());
        return app::kUsageError;
    }
    try {
        if (pub_path.empty() && sub_path.empty())
            throw std::runtime_error("give --publisher, --subscriber or both");
        const auto pub = load(pub_path);
        const auto sub = load(sub_path);
        std::ofstream out(out_path, std::ios::trunc);
        out << report::render_html(pub ? &*pub : nullptr, sub ? &*sub : nullptr);
        if (!out) throw std::runtime_error("cannot write " + out_path);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mqtt_report: error: %s\n", e.what());
        return app::kUsageError;
    }
    return app::kSuccess;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {  // building the command line itself failed
        std::fprintf(stderr, "mqtt_report: error: %s\n", e.what());
        return app::kUsageError;
    }
}

#pragma once
// Command-line pieces both programs share: connection flags, output flags, and turning
// CLI11's outcome into an exit status.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/exit_status.hpp"
#include "metrics/http_endpoint.hpp"
#include "mqtt/engines.hpp"

// CLI11 is included only where flags are declared (app/cli_parse.hpp): its header alone costs
// ~20 s of compile time per file, for the validators it builds at start-up.
namespace CLI {
class App;
}  // namespace CLI

namespace app {

struct OutputOptions {
    std::string report_file;             // --report: JSON with the final figures
    std::uint64_t progress_every{1000};  // 0 = no progress
    bool quiet{false};
    std::optional<metrics::ListenAddress> metrics;  // --metrics-port: serve /metrics there
    std::string command;  // the command line, for the report (set by run_main)
};

// The command line as a shell would take it back: arguments with spaces or quotes quoted.
std::string command_line(int argc, char** argv);
// This machine's name, for a report (empty if it has none).
std::string host_name();

// Flags mosquitto_pub/mosquitto_sub users know: -h -p -i -u -P -V, the TLS flags (--cafile,
// --capath, --cert, --key, --tls-version, --insecure, --alpn, --tls-use-os-certs), plus
// --password-file (MQTT_PASSWORD in the environment), --keepalive and the engine (--client).
void add_connection_flags(CLI::App& app, mqtt::ConnectOptions& options, mqtt::Engine& engine);
void add_output_flags(CLI::App& app, OutputOptions& options);
// --version: "<program> <version>" on stdout, exit 0 (every program).
void add_version_flag(CLI::App& app);
std::string version_text(const std::string& program);
// Reconnecting and sessions: --reconnect-max, --give-up-after, --session, --session-expiry.
void add_session_flags(CLI::App& app, mqtt::ConnectOptions& options);
// After parsing: a client id and session expiry for a persistent session that has none.
void apply_session_defaults(mqtt::ConnectOptions& options, const std::string& program);
// Checks that CLI11 cannot express alone; returns an error message or nothing.
std::optional<std::string> validate_connection(const mqtt::ConnectOptions& options,
                                               mqtt::Engine engine);
// A fleet profile group's `host` (nodes as --host takes them, each maybe a URL) as a way to the
// broker of its own. What the URL does not say comes from `flags`, the command line's options:
// without a scheme their transport and port; for TLS their certificates (the system's CAs if
// they name none); for WebSocket their headers and path (the URL's path wins). Throws
// std::invalid_argument naming the problem.
mqtt::BrokerEndpoint endpoint_of(const std::string& hosts, const mqtt::ConnectOptions& flags);
// Warnings about the connection settings, printed once before a run (--insecure).
void warn_about_connection(const std::string& program, const mqtt::ConnectOptions& options);
std::optional<std::string> validate_topic_name(const std::string& flag, const std::string& topic);
// `text` with every `what` replaced by `with` (topic templates: {n}, {s}, {run}).
std::string replace_all(std::string_view text, std::string_view what, const std::string& with);
// A run id when none was given: 8 random hex digits.
std::string random_run_id();
// Microseconds since the epoch of `t` (the wall clock messages are stamped with).
std::int64_t epoch_us(std::chrono::system_clock::time_point t);

// The outcome of parsing a command line: options to run with, or an exit status and the text
// to print (help on stdout, a one-line error on stderr).
template <typename Options>
struct Parsed {
    std::optional<Options> options;
    int exit_status{0};
    std::string out;  // for stdout (--help)
    std::string err;  // for stderr (errors)
};

// The whole main() of either program: parse, print help or the error, or run.
template <typename ParseFn, typename RunFn>
int run_main(int argc, char** argv, ParseFn parse, RunFn run) {
    auto parsed = parse(std::vector<std::string>(argv, argv + argc));
    if (!parsed.options) {
        std::fputs(parsed.out.c_str(), stdout);
        if (!parsed.err.empty()) std::fprintf(stderr, "%s\n", parsed.err.c_str());
        return parsed.exit_status;
    }
    parsed.options->output.command = command_line(argc, argv);
    return run(*parsed.options);
}

}  // namespace app

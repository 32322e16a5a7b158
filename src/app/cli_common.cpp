#include "app/cli_common.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <stdexcept>

#include "net/tls.hpp"
#include "net/websocket_handshake.hpp"

namespace app {
namespace {

// The first line of `file`, without its line end. Throws CLI::ValidationError.
std::string read_password(const std::string& file) {
    std::ifstream in(file);
    std::string line;
    if (!in) throw CLI::ValidationError("--password-file", "cannot read " + file);
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

// One entry of a --host list: host, host:port, [v6]:port, or a bare IPv6 address. Throws
// std::invalid_argument naming the problem.
mqtt::BrokerAddress parse_broker(const std::string& entry, std::uint16_t default_port) {
    const auto bad = [&entry](const std::string& why) {
        return std::invalid_argument("'" + entry + "': " + why);
    };
    std::string host = entry;
    std::string port;
    if (!entry.empty() && entry.front() == '[') {
        const auto close = entry.find(']');
        if (close == std::string::npos) throw bad("no ']' after the IPv6 address");
        host = entry.substr(1, close - 1);
        if (close + 1 < entry.size()) {
            if (entry[close + 1] != ':') throw bad("expected ':PORT' after ']'");
            port = entry.substr(close + 2);
        }
    } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
        host = entry.substr(0, entry.find(':'));
        port = entry.substr(entry.find(':') + 1);
    }
    if (host.empty()) throw bad("no host name");
    if (port.empty()) return {host, default_port};
    if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
        std::stoul(port) < 1 || std::stoul(port) > 65535)
        throw bad("the port must be a number from 1 to 65535");
    return {host, static_cast<std::uint16_t>(std::stoul(port))};
}

// One entry of a --host list as a URL: mqtt://, mqtts://, ws:// or wss://, the address, and
// a WebSocket's path. Without a scheme, the flags decide the transport.
struct HostEntry {
    std::string scheme;
    std::string address;
    std::string path;
    bool tls() const { return scheme == "mqtts" || scheme == "wss"; }
    bool websocket() const { return scheme == "ws" || scheme == "wss"; }
};

HostEntry split_url(const std::string& entry) {
    const auto separator = entry.find("://");
    if (separator == std::string::npos) return {"", entry, ""};
    std::string scheme = entry.substr(0, separator);
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (scheme != "mqtt" && scheme != "mqtts" && scheme != "ws" && scheme != "wss")
        throw std::invalid_argument("'" + entry + "': unknown scheme " + scheme +
                                    ":// (mqtt, mqtts, ws, wss)");
    const std::string rest = entry.substr(separator + 3);
    const auto slash = rest.find('/');
    std::string path = slash == std::string::npos ? "" : rest.substr(slash);
    if (!path.empty() && path != "/" && scheme.rfind("mqtt", 0) == 0)
        throw std::invalid_argument("'" + entry + "': only ws:// and wss:// take a path");
    if (scheme.rfind("mqtt", 0) == 0) path.clear();
    return {scheme, rest.substr(0, slash), path};
}

// A list of nodes, every one reached the same way (one scheme, one path).
std::vector<HostEntry> split_host_entries(const std::string& list) {
    std::vector<HostEntry> entries;
    std::size_t from = 0;
    for (;;) {
        const auto comma = list.find(',', from);
        entries.push_back(split_url(list.substr(from, comma - from)));
        if (comma == std::string::npos) break;
        from = comma + 1;
    }
    for (const HostEntry& entry : entries)
        if (entry.scheme != entries.front().scheme || entry.path != entries.front().path)
            throw std::invalid_argument(
                "every node must be reached the same way (one scheme, one path)");
    return entries;
}

// The default port of a transport: 1883, 8883, and for WebSocket 80 and 443.
std::uint16_t default_port(bool tls, bool websocket) {
    if (websocket) return tls ? 443 : 80;
    return tls ? 8883 : 1883;
}

// The transport a URL scheme names, over what the flags say; one line when they disagree.
void apply_scheme(const CLI::App& app, const HostEntry& entry, mqtt::ConnectOptions& o) {
    const auto bad = [&entry](const std::string& why) {
        return std::invalid_argument(entry.scheme + "://" + entry.address + ": " + why);
    };
    if (!entry.tls() && o.tls) throw bad("TLS flags were given: use mqtts:// or wss://");
    if (!entry.websocket() && o.websocket)
        throw bad("WebSocket flags were given: use ws:// or wss://");
    if (entry.tls() && !o.tls)
        o.tls.emplace().use_os_certs = true;  // no --cafile: the system's CAs
    if (!entry.websocket()) return;
    if (!o.websocket) o.websocket.emplace();
    if (entry.path.empty()) return;
    if (app.count("--ws-path") > 0 && entry.path != o.websocket->path)
        throw bad("its path differs from --ws-path " + o.websocket->path);
    o.websocket->path = entry.path;
}

// "-h a:1883,b:1884" or "-h ws://a:8080/mqtt,ws://b:8080/mqtt": the first node becomes
// host/port, the others the failover list; every node is reached the same way.
void split_host_list(const CLI::App& app, mqtt::ConnectOptions& o) {
    if (o.host.empty()) return;  // validate_connection says so
    try {
        const std::vector<HostEntry> entries = split_host_entries(o.host);
        if (!entries.front().scheme.empty()) apply_scheme(app, entries.front(), o);
        // The scheme's port (URLs: ws 80, wss 443), unless --port says otherwise.
        if (app.count("--port") == 0)
            o.port = default_port(o.tls.has_value(), o.websocket.has_value());
        std::vector<mqtt::BrokerAddress> nodes;
        nodes.reserve(entries.size());
        for (const HostEntry& entry : entries) nodes.push_back(parse_broker(entry.address, o.port));
        o.host = nodes.front().host;
        o.port = nodes.front().port;
        o.failover.assign(nodes.begin() + 1, nodes.end());
    } catch (const std::invalid_argument& e) {
        throw CLI::ValidationError("--host", e.what());
    }
}

// MQTT over WebSocket: --ws, its path and extra handshake headers; a URL in --host does it too.
void add_websocket_flags(CLI::App& app, mqtt::ConnectOptions& o) {
    auto websocket = [&o]() -> net::WebSocketOptions& {
        if (!o.websocket) o.websocket.emplace();
        return *o.websocket;
    };
    app.add_flag_callback(
        "--ws", [websocket] { websocket(); },
        "MQTT over WebSocket (default port 80, 443 with TLS; native engine); also -h ws://HOST"
        "[:PORT][/PATH] or wss://...");
    app.add_option_function<std::string>(
        "--ws-path",
        [websocket](const std::string& path) {
            if (path.empty() || path.front() != '/' ||
                path.find_first_of(" \r\n") != std::string::npos)
                throw CLI::ValidationError("--ws-path", "'" + path + "' is not a path from /");
            websocket().path = path;
        },
        "Use WebSocket, at this HTTP path (default /mqtt)");
    app.add_option_function<std::vector<std::string>>(
           "--ws-header",
           [websocket](const std::vector<std::string>& headers) {
               for (const std::string& header : headers) {
                   if (const auto problem = net::check_websocket_header(header); !problem.empty())
                       throw CLI::ValidationError("--ws-header",
                                                  fmt::format("'{}': {}", header, problem));
                   websocket().headers.push_back(header);
               }
           },
           "Use WebSocket, and send this header in its handshake ('Name: value'; repeatable), as "
           "an authenticating proxy wants")
        ->allow_extra_args(false);
}

// mosquitto_pub/sub's TLS flags; any of them turns TLS on.
void add_tls_flags(CLI::App& app, mqtt::ConnectOptions& o) {
    auto tls = [&o]() -> mqtt::TlsOptions& {
        if (!o.tls) o.tls.emplace();
        return *o.tls;
    };
    auto text = [&app, tls](const std::string& name, std::string mqtt::TlsOptions::*field,
                            const std::string& help) {
        app.add_option_function<std::string>(
            name, [tls, field](const std::string& v) { tls().*field = v; }, help);
    };
    text("--cafile", &mqtt::TlsOptions::cafile,
         "Use TLS; trust the CA certificates in this PEM file (default port then 8883)");
    text("--capath", &mqtt::TlsOptions::capath,
         "Use TLS; trust the CA certificates in this directory (hashed names, c_rehash)");
    text("--cert", &mqtt::TlsOptions::certfile, "Use TLS with this client certificate (PEM)");
    text("--key", &mqtt::TlsOptions::keyfile, "The client certificate's private key (PEM)");
    text("--tls-version", &mqtt::TlsOptions::version,
         "Use TLS of exactly this version: tlsv1.2 or tlsv1.3 (default: 1.2 or newer)");
    text("--alpn", &mqtt::TlsOptions::alpn,
         "Use TLS and offer these ALPN protocols (comma-separated)");
    app.add_flag_callback(
        "--tls-use-os-certs", [tls] { tls().use_os_certs = true; },
        "Use TLS; trust the system's CA certificates");
    app.add_flag_callback(
        "--insecure", [tls] { tls().insecure = true; },
        "Use TLS without checking that the certificate names the host (test setups only: "
        "anyone with a certificate from a trusted CA can pose as the broker)");
}

}  // namespace

void add_connection_flags(CLI::App& app, mqtt::ConnectOptions& o, mqtt::Engine& engine) {
    // mosquitto_pub/sub use -h for the host, so help is --help only.
    app.set_help_flag("--help", "Print this help and exit");
    app.add_option("-h,--host", o.host,
                   "Broker host, or the nodes of a cluster: HOST[:PORT],HOST[:PORT],... (a lost "
                   "connection continues on another node; a fleet spreads its connections over "
                   "them, see --spread). Each may be a URL: mqtt://, mqtts://, ws://HOST[:PORT]"
                   "[/PATH] or wss://... (MQTT over WebSocket; default path /mqtt)")
        ->capture_default_str();
    app.add_option("-p,--port", o.port, "Broker port")
        ->capture_default_str()
        ->check(CLI::Range(1, 65535));
    app.add_option("-i,--id", o.client_id, "MQTT client id (default: generated)");
    app.add_option("-u,--username", o.username, "User name for the broker");
    auto* password = app.add_option(
        "-P,--password", o.password,
        "Password for the broker (needs --username). Visible to every user of this machine "
        "in ps: prefer --password-file or the environment variable MQTT_PASSWORD");
    app.add_option_function<std::string>(
           "--password-file", [&o](const std::string& file) { o.password = read_password(file); },
           "Read the password from the first line of FILE")
        ->excludes(password);
    add_tls_flags(app, o);
    add_websocket_flags(app, o);
    // Decided once every flag is known.
    app.final_callback([&app, &o] {
        split_host_list(app, o);
        if (!o.password && o.username)
            if (const char* env = std::getenv("MQTT_PASSWORD")) o.password = std::string(env);
    });
    const std::map<std::string, mqtt::ProtocolVersion> versions{
        {"5", mqtt::ProtocolVersion::V5},
        {"mqttv5", mqtt::ProtocolVersion::V5},
        {"311", mqtt::ProtocolVersion::V311},
        {"3.1.1", mqtt::ProtocolVersion::V311},
        {"mqttv311", mqtt::ProtocolVersion::V311}};
    app.add_option("-V,--mqtt-version", o.version,
                   "MQTT version: 5 (default; falls back to 3.1.1 if the broker refuses it) or 311")
        ->transform(CLI::CheckedTransformer(versions, CLI::ignore_case))
        ->option_text("5|311");
    const std::map<std::string, mqtt::Engine> engines{{"native", mqtt::Engine::Native},
                                                      {"libmosquitto", mqtt::Engine::Libmosquitto}};
    app.add_option("--client", engine,
                   "MQTT client engine: native (batched, default) or libmosquitto (reference)")
        ->transform(CLI::CheckedTransformer(engines, CLI::ignore_case))
        ->option_text("native|libmosquitto");
    app.add_option_function<int>(
           "-k,--keepalive", [&o](int s) { o.keepalive = std::chrono::seconds(s); },
           "Keepalive interval in seconds (default 30)")
        ->check(CLI::Range(5, 65535));
    app.add_option_function<double>(
           "--connect-timeout",
           [&o](double s) {
               o.connect_timeout = std::chrono::milliseconds(static_cast<long>(s * 1000));
           },
           "Seconds to wait for the broker's CONNACK/SUBACK (default 10)")
        ->check(CLI::Range(0.1, 3600.0));
}

void add_session_flags(CLI::App& app, mqtt::ConnectOptions& o) {
    app.add_option_function<double>(
           "--reconnect-max",
           [&o](double s) {
               o.reconnect_max = std::chrono::milliseconds(static_cast<long>(s * 1000));
           },
           "Longest pause between reconnect attempts, seconds (default 10)")
        ->check(CLI::Range(0.1, 3600.0));
    app.add_option_function<double>(
           "--give-up-after",
           [&o](double s) {
               o.give_up_after = std::chrono::milliseconds(static_cast<long>(s * 1000));
           },
           "Seconds without the broker before giving up with exit 3 (default 300; 0: do not "
           "reconnect)")
        ->check(CLI::Range(0.0, 86400.0));
    const std::map<std::string, bool> sessions{{"clean", true}, {"persistent", false}};
    app.add_option("--session", o.clean_session,
                   "clean, or persistent: the broker keeps subscriptions and queues messages "
                   "while we are away")
        ->transform(CLI::CheckedTransformer(sessions, CLI::ignore_case))
        ->option_text("clean|persistent");
    app.add_option_function<std::uint32_t>(
        "--session-expiry", [&o](std::uint32_t s) { o.session_expiry = std::chrono::seconds(s); },
        "MQTT 5: seconds the broker keeps a persistent session after a disconnect (default: "
        "--give-up-after)");
}

std::string version_text(const std::string& program) {
    return program + " " MQTT_TELEMETRY_VERSION;
}

void add_version_flag(CLI::App& app) {
    app.set_version_flag("--version", version_text(app.get_name()), "Print the version and exit");
}

void add_output_flags(CLI::App& app, OutputOptions& o) {
    app.add_option("--report", o.report_file,
                   "Write the final figures as JSON to FILE (also after an interrupted run)");
    app.add_option("--progress-every", o.progress_every,
                   "Report progress every N messages on stderr (0 = off)")
        ->capture_default_str();
    app.add_flag("-Q,--quiet", o.quiet,
                 "No progress or informational lines; errors and the result only");
    auto* port = app.add_option_function<std::string>(
        "--metrics-port",
        [&o](const std::string& text) {
            o.metrics = metrics::parse_listen_address(text);
            if (!o.metrics)
                throw CLI::ValidationError("--metrics-port",
                                           text + " is not PORT or ADDRESS:PORT (numeric address)");
        },
        "Serve Prometheus metrics at http://HOST:PORT/metrics while running; PORT listens on "
        "every interface (as exporters do), ADDRESS:PORT (127.0.0.1:9464, [::1]:9464) on one; "
        "port 0 picks one");
    // Defined after --metrics-port, so CLI11 runs its callback after that one's.
    app.add_option_function<std::string>(
        "--metrics-address",
        [&o, port](const std::string& text) {
            if (!o.metrics) throw CLI::ValidationError("--metrics-address", "needs --metrics-port");
            if (port->as<std::string>().find(':') != std::string::npos)
                throw CLI::ValidationError("--metrics-address",
                                           "--metrics-port already names an address");
            const bool v6 = text.find(':') != std::string::npos;
            const auto where = metrics::parse_listen_address((v6 ? "[" + text + "]" : text) + ":" +
                                                             std::to_string(o.metrics->port));
            if (!where || text.empty())
                throw CLI::ValidationError("--metrics-address",
                                           text + " is not a numeric IPv4 or IPv6 address");
            o.metrics->address = where->address;
        },
        "The address --metrics-port listens on (default: every interface; 127.0.0.1 keeps "
        "the metrics on this machine)");
    add_version_flag(app);
}

void apply_session_defaults(mqtt::ConnectOptions& o, const std::string& program) {
    // A persistent session needs a client id that stays the same across reconnects.
    if (!o.clean_session && o.client_id.empty())
        o.client_id = fmt::format("{}-{:08x}", program, std::random_device{}());
    // Keep the session for as long as we keep trying to come back.
    if (!o.clean_session && o.session_expiry.count() == 0)
        o.session_expiry = std::chrono::duration_cast<std::chrono::seconds>(o.give_up_after) +
                           std::chrono::seconds(60);
}

std::optional<std::string> validate_connection(const mqtt::ConnectOptions& o, mqtt::Engine engine) {
    if (o.host.empty()) return "--host must not be empty";
    if (o.password && !o.username) return "--password needs --username";
    if (o.client_id.size() > 65535) return "--id is too long";
    const auto nodes = mqtt::broker_list(o);
    for (auto it = nodes.begin(); it != nodes.end(); ++it)
        if (std::find(nodes.begin(), it, *it) != it)
            return "--host lists " + it->host + ":" + std::to_string(it->port) + " twice";
    if (nodes.size() > 1 && engine != mqtt::Engine::Native)
        return "--host with several nodes needs --client native";
    if (o.websocket && engine != mqtt::Engine::Native)
        return "WebSocket (ws://, wss://, --ws) needs --client native (libmosquitto 2.0 has no "
               "WebSocket client)";
    if (o.tls)
        if (auto problem = net::check_tls_options(*o.tls)) return problem;
    return std::nullopt;
}

void warn_about_connection(const std::string& program, const mqtt::ConnectOptions& o) {
    if (o.tls && o.tls->insecure)
        std::fprintf(stderr,
                     "%s: WARNING: --insecure: the broker's certificate is not checked against "
                     "the host name %s; anyone with a certificate from a trusted CA can pose as "
                     "the broker\n",
                     program.c_str(), o.host.c_str());
}

std::optional<std::string> validate_topic_name(const std::string& flag, const std::string& topic) {
    if (topic.empty()) return flag + " must not be empty";
    if (topic.find_first_of("+#") != std::string::npos)
        return flag + " must not contain the wildcards + or #: '" + topic + "'";
    return std::nullopt;
}

std::string command_line(int argc, char** argv) {
    std::string line;
    for (int i = 0; i < argc; ++i) {
        const std::string arg = argv[i];  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
        const bool plain =
            !arg.empty() && arg.find_first_of(" \t\n'\"\\$`*?;&|<>()") == std::string::npos;
        if (!line.empty()) line += ' ';
        if (plain) {
            line += arg;
            continue;
        }
        line += '\'';
        for (const char c : arg) line += c == '\'' ? std::string("'\\''") : std::string(1, c);
        line += '\'';
    }
    return line;
}

std::string host_name() {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0) return {};
    return name;
}

mqtt::BrokerEndpoint endpoint_of(const std::string& hosts, const mqtt::ConnectOptions& flags) {
    const std::vector<HostEntry> entries = split_host_entries(hosts);
    const HostEntry& first = entries.front();
    mqtt::BrokerEndpoint endpoint{{}, flags.tls, flags.websocket};
    if (!first.scheme.empty()) {
        endpoint.tls.reset();
        endpoint.websocket.reset();
        // TLS takes the certificates the flags name (the system's CAs without --cafile), a
        // WebSocket the flags' headers; the URL's path wins.
        if (first.tls()) {
            endpoint.tls = flags.tls ? *flags.tls : net::TlsOptions{};
            if (!flags.tls) endpoint.tls->use_os_certs = true;
        }
        if (first.websocket()) {
            endpoint.websocket = flags.websocket ? *flags.websocket : net::WebSocketOptions{};
            if (!first.path.empty()) endpoint.websocket->path = first.path;
        }
    }
    const std::uint16_t port = first.scheme.empty() ? flags.port
                                                    : default_port(endpoint.tls.has_value(),
                                                                   endpoint.websocket.has_value());
    for (const HostEntry& entry : entries)
        endpoint.nodes.push_back(parse_broker(entry.address, port));
    return endpoint;
}

std::string replace_all(std::string_view text, std::string_view what, const std::string& with) {
    std::string out;
    for (std::size_t at = 0;;) {
        const auto n = text.find(what, at);
        out += text.substr(at, n - at);
        if (n == std::string_view::npos) return out;
        out += with;
        at = n + what.size();
    }
}

std::string random_run_id() {
    std::random_device rd;
    return fmt::format("{:08x}", rd());
}

std::int64_t epoch_us(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace app

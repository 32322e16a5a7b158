#include "app/fleet_profile.hpp"

#include <fmt/format.h>

#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "app/cli_common.hpp"
#include "telemetry/payload.hpp"

namespace app {
namespace {

constexpr std::uint64_t kMaxDevices = 1'000'000;

[[noreturn]] void fail(const std::string& source, const toml::source_region& where,
                       const std::string& message) {
    throw ProfileError(
        fmt::format("{}:{}:{}: {}", source, where.begin.line, where.begin.column, message));
}

// Reads a table's keys, refusing any it does not know (a typo must not be silently ignored).
class Fields {
  public:
    Fields(const toml::table& table, const std::string& source, const std::set<std::string>& known)
        : table_(table), source_(source) {
        for (const auto& [key, node] : table)
            if (known.count(std::string(key.str())) == 0)
                fail(source, node.source(), fmt::format("unknown key '{}'", key.str()));
    }
    template <typename T>
    std::optional<T> get(std::string_view key) const {
        const toml::node* node = table_.get(key);
        if (node == nullptr) return std::nullopt;
        if constexpr (std::is_same_v<T, double>) {
            if (auto v = node->value<double>()) return *v;  // integers too
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
            if (node->is_integer()) return node->value<std::int64_t>();
        } else {
            if (auto v = node->value<T>()) return *v;
        }
        fail(source_, node->source(), fmt::format("'{}' has the wrong type", key));
    }
    template <typename T>
    std::optional<T> get_in(std::string_view key, T lo, T hi) const {
        const auto v = get<T>(key);
        if (v && !(*v >= lo && *v <= hi))
            fail(source_, table_.get(key)->source(),
                 fmt::format("'{}' must be within [{}, {}]", key, lo, hi));
        return v;
    }
    const toml::source_region& where(std::string_view key) const {
        const toml::node* node = table_.get(key);
        return node != nullptr ? node->source() : table_.source();
    }

  private:
    const toml::table& table_;
    const std::string& source_;
};

sim::SensorBehaviour read_sensors(const toml::table& t, const std::string& source) {
    const Fields f(t, source, {"fault_rate", "mains_powered", "temperature_c"});
    sim::SensorBehaviour s;
    s.fault_rate = f.get_in<double>("fault_rate", 0.0, 1.0).value_or(s.fault_rate);
    s.mains_powered = f.get<bool>("mains_powered").value_or(false);
    s.temperature_c = f.get_in<double>("temperature_c", -50.0, 100.0).value_or(0.0);
    return s;
}

DeviceGroup read_group(const toml::table& t, const std::string& source) {
    const Fields f(
        t, source,
        {"name", "devices", "id_prefix", "interval_ms", "jitter", "qos", "topic", "client_id",
         "churn", "sensors", "payload_format", "payload_size", "payload_template", "host"});
    DeviceGroup g;
    const auto name = f.get<std::string>("name");
    if (!name || !telemetry::is_plain_identifier(*name))
        fail(source, f.where("name"), "a group needs a 'name' of [A-Za-z0-9._-]");
    g.name = *name;
    g.devices = static_cast<std::uint64_t>(
        f.get_in<std::int64_t>("devices", 1, static_cast<std::int64_t>(kMaxDevices)).value_or(1));
    g.id_prefix = f.get<std::string>("id_prefix").value_or(g.name + "-");
    if (g.id_prefix.size() > 56 || !telemetry::is_plain_identifier(g.id_prefix + "0"))
        fail(source, f.where("id_prefix"), "'id_prefix' must be at most 56 of [A-Za-z0-9._-]");
    const auto interval = f.get_in<double>("interval_ms", 1.0, 86'400'000.0);
    if (!interval) fail(source, t.source(), "a group needs 'interval_ms'");
    g.interval_ms = *interval;
    g.jitter = f.get_in<double>("jitter", 0.0, 1.0).value_or(g.jitter);
    g.qos = static_cast<int>(f.get_in<std::int64_t>("qos", 0, 2).value_or(1));
    g.topic = f.get<std::string>("topic").value_or(g.topic);
    if (auto e = validate_topic_name("topic", expand_device_template(g.topic, "d", 1, g.name)))
        fail(source, f.where("topic"), *e);
    g.client_id = f.get<std::string>("client_id").value_or(g.client_id);
    g.churn = f.get_in<double>("churn", 0.0, 1.0).value_or(0.0);
    g.payload_format = f.get<std::string>("payload_format");
    if (g.payload_format && !telemetry::parse_payload_format(*g.payload_format))
        fail(source, f.where("payload_format"),
             "'payload_format' must be json, binary, random, template, file, protobuf, cbor or "
             "msgpack");
    g.payload_size = f.get<std::string>("payload_size");
    g.payload_template = f.get<std::string>("payload_template");
    g.host = f.get<std::string>("host");
    if (g.host) try {
            (void)endpoint_of(*g.host, mqtt::ConnectOptions{});  // its syntax; the flags come later
        } catch (const std::invalid_argument& e) {
            fail(source, f.where("host"), fmt::format("'host' {}", e.what()));
        }
    if (const toml::table* sensors = t["sensors"].as_table())
        g.sensors = read_sensors(*sensors, source);
    return g;
}

}  // namespace

std::string expand_device_template(std::string_view pattern, std::string_view device,
                                   std::uint64_t n, std::string_view group) {
    std::string out;
    out.reserve(pattern.size() + device.size());
    for (std::size_t i = 0; i < pattern.size();) {
        const std::string_view rest = pattern.substr(i);
        if (rest.starts_with("{device}")) {
            out += device;
            i += 8;
        } else if (rest.starts_with("{n}")) {
            out += std::to_string(n);
            i += 3;
        } else if (rest.starts_with("{group}")) {
            out += group;
            i += 7;
        } else {
            out += pattern[i++];
        }
    }
    return out;
}

FleetProfile parse_fleet_profile(std::string_view text, const std::string& source) {
    toml::table root;
    try {
        root = toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        fail(source, e.source(), std::string(e.description()));
    }
    const Fields f(root, source, {"duration", "seed", "group"});
    FleetProfile p;
    p.duration_s = f.get_in<double>("duration", 0.001, 31'536'000.0);
    if (const auto seed = f.get_in<std::int64_t>("seed", 0, INT64_MAX))
        p.seed = static_cast<std::uint64_t>(*seed);
    const toml::array* groups = root["group"].as_array();
    if (groups == nullptr || groups->empty())
        fail(source, root.source(), "a profile needs at least one [[group]]");
    std::set<std::string> names, prefixes;
    std::uint64_t devices = 0;
    for (const toml::node& node : *groups) {
        const toml::table* t = node.as_table();
        if (t == nullptr) fail(source, node.source(), "[[group]] must be a table");
        DeviceGroup g = read_group(*t, source);
        if (!names.insert(g.name).second)
            fail(source, t->source(), fmt::format("two groups are named '{}'", g.name));
        if (!prefixes.insert(g.id_prefix).second)
            fail(source, t->source(),
                 fmt::format("two groups have the id prefix '{}': device ids must differ",
                             g.id_prefix));
        devices += g.devices;
        if (devices > kMaxDevices)
            fail(source, t->source(), fmt::format("more than {} devices in all", kMaxDevices));
        p.groups.push_back(std::move(g));
    }
    return p;
}

FleetProfile load_fleet_profile(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw ProfileError(fmt::format("{}: cannot be read", path));
    std::ostringstream text;
    text << in.rdbuf();
    return parse_fleet_profile(text.str(), path);
}

}  // namespace app

#include "app/fleet_plan.hpp"

#include <fmt/format.h>

#include "app/fleet_profile.hpp"
#include "sim/sensor_model.hpp"

namespace app {
namespace {

// FNV-1a: the same node for the same client id on every host and every run (std::hash is
// allowed to differ between builds).
std::uint64_t stable_hash(std::string_view text) {
    std::uint64_t h = 14695981039346656037ULL;
    for (const char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    return h;
}

// The profile's groups, or one group made of the flags.
std::vector<DeviceGroup> fleet_groups(const PublisherOptions& p) {
    if (p.from_profile()) return p.groups;
    DeviceGroup g;
    g.name = "fleet";
    g.devices = p.shards > 1 ? p.devices_total : p.devices;  // a shard's are some of them
    g.id_prefix = p.device_prefix;
    g.interval_ms = p.rate > 0 ? static_cast<double>(p.devices) * 1000.0 / p.rate : 0.0;
    g.jitter = p.jitter;
    g.qos = p.qos;
    g.topic = p.topic;
    g.client_id = p.client_id_template;
    g.churn = p.churn;
    g.sensors.fault_rate = p.fault_rate;
    return {g};
}

// This process's devices, group after group.
std::vector<DeviceSpec> device_specs(const PublisherOptions& o,
                                     const std::vector<DeviceGroup>& groups) {
    std::vector<DeviceSpec> specs;
    std::uint64_t number = 0;  // across the groups, from 1
    for (std::uint32_t g = 0; g < groups.size(); ++g) {
        const DeviceGroup& group = groups[g];
        for (std::uint64_t n = 1; n <= group.devices; ++n) {
            // A shard keeps its own devices: ids and values as if one process sent them all.
            if (number++ % o.shards != o.shard - 1) continue;
            std::string id = sim::device_id(group.id_prefix, n);
            std::string topic = expand_device_template(group.topic, id, n, group.name);
            specs.push_back({std::move(id), std::move(topic), g, n, number});
        }
    }
    return specs;
}

}  // namespace

RunPlan plan_run(const PublisherOptions& options) {
    RunPlan plan;
    plan.groups = fleet_groups(options);
    plan.devices = device_specs(options, plan.groups);
    plan.devices_in_group.assign(plan.groups.size(), 0);
    for (const DeviceSpec& d : plan.devices) ++plan.devices_in_group[d.group];
    plan.numbering.devices = std::max<std::uint64_t>(plan.devices.size(), 1);
    return plan;
}

std::string transport_of(const PublisherOptions& options, const RunPlan& plan,
                         std::uint32_t device) {
    const DeviceGroup& group = plan.groups[plan.devices[device].group];
    return group.endpoint ? mqtt::transport_name(*group.endpoint)
                          : mqtt::transport_name(options.connect);
}

sim::DeviceFleet make_device_fleet(const RunPlan& plan, std::uint64_t seed, std::string run_id) {
    std::vector<sim::DeviceFleet::Setup> setups;
    for (const DeviceSpec& d : plan.devices)
        setups.push_back({d.id, plan.groups[d.group].sensors, d.number});
    return sim::DeviceFleet(setups, seed, std::move(run_id));
}

std::string command_topic_of(const PublisherOptions& o, const RunPlan& run, std::uint64_t device) {
    const DeviceSpec& d = run.devices[device];
    return expand_device_template(o.command_topic, d.id, d.n, run.groups[d.group].name);
}

std::vector<mqtt::ConnectionPlan> connection_plans(const PublisherOptions& o, const RunPlan& run) {
    const std::uint64_t n = o.per_device ? o.devices : o.connections;
    std::vector<mqtt::ConnectionPlan> plans(n);
    const std::string base =
        o.connect.client_id.empty() ? std::string("mqtt_publisher") : o.connect.client_id;
    for (std::uint64_t device = 0; device < run.devices.size(); ++device) {
        const DeviceSpec& d = run.devices[device];
        const DeviceGroup& group = run.groups[d.group];
        mqtt::ConnectionPlan& plan = plans[device % n];
        plan.topics.push_back(d.topic);
        if (o.commands) plan.subscriptions.push_back(command_topic_of(o, run, device));
        if (!o.per_device) continue;
        // A device is its connection: its id names the client, and the broker says "offline"
        // for it when it vanishes without DISCONNECT.
        plan.client_id = expand_device_template(group.client_id, d.id, d.n, group.name);
        const std::string status = expand_device_template(o.status_topic, d.id, d.n, group.name);
        plan.will = mqtt::WillOptions{status, "offline", mqtt::QoS::AtLeastOnce, true};
        plan.birth = std::make_pair(status, std::string("online"));
        plan.endpoint = group.endpoint;
    }
    for (std::uint64_t i = 0; i < n; ++i) {
        if (!o.per_device) plans[i].client_id = fmt::format("{}-{}", base, i + 1);
        const std::size_t nodes = plans[i].endpoint ? plans[i].endpoint->nodes.size()
                                                    : mqtt::broker_list(o.connect).size();
        plans[i].broker = o.spread == PublisherOptions::Spread::Hash
                              ? stable_hash(plans[i].client_id) % nodes
                              : i % nodes;
        if (!o.bind_addresses.empty())
            plans[i].bind_address = o.bind_addresses[i % o.bind_addresses.size()];
    }
    return plans;
}

AutoConnections auto_connections(const PublisherOptions& o) {
    mqtt::ConnectOptions connect = o.connect;
    if (!connect.client_id.empty()) connect.client_id += "-probe";  // never the run's session
    connect.clean_session = true;
    connect.give_up_after = std::chrono::milliseconds(0);
    const auto probe = mqtt::make_client(o.engine);
    try {
        probe->start_connect(connect);
        const auto deadline = std::chrono::steady_clock::now() + connect.connect_timeout;
        while (!probe->connected() && std::chrono::steady_clock::now() < deadline)
            probe->poll(std::chrono::milliseconds(10));
    } catch (const std::exception&) {
        return {};  // the run connects again and says what failed
    }
    if (!probe->connected()) return {};
    AutoConnections result{1, probe->window()};
    probe->disconnect();
    if (result.window == 0) return result;
    const std::uint64_t wanted = (kAutoWindow + result.window - 1) / result.window;
    result.connections = std::clamp<std::uint64_t>(
        wanted, 1,
        std::min<std::uint64_t>(kMaxAutoConnections, std::max<std::uint64_t>(1, o.devices)));
    return result;
}

std::unique_ptr<mqtt::Client> make_publisher_client(const PublisherOptions& o, const RunPlan& run,
                                                    mqtt::ConnectOptions& connect,
                                                    net::EventLoop& loop) {
    if (!o.fleet()) return mqtt::make_client(o.engine, loop);
    auto plans = connection_plans(o, run);
    if (o.connect_rate > 0)
        connect.connect_timeout += std::chrono::milliseconds(
            static_cast<std::int64_t>(1000.0 * static_cast<double>(plans.size()) / o.connect_rate));
    return std::make_unique<mqtt::MultiClient>(loop, std::move(plans), o.connect_rate);
}

}  // namespace app

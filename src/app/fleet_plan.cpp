#include "app/fleet_plan.hpp"

#include <fmt/format.h>

#include "sim/sensor_model.hpp"

namespace app {

std::string device_topic(const std::string& pattern, const std::string& device) {
    std::string topic = pattern;
    for (auto pos = topic.find("{device}"); pos != std::string::npos;
         pos = topic.find("{device}", pos + device.size()))
        topic.replace(pos, 8, device);
    return topic;
}

std::vector<mqtt::ConnectionPlan> connection_plans(const PublisherOptions& o) {
    const std::uint64_t n = o.per_device ? o.devices : o.connections;
    std::vector<mqtt::ConnectionPlan> plans(n);
    const std::string base =
        o.connect.client_id.empty() ? std::string("mqtt_publisher") : o.connect.client_id;
    for (std::uint64_t device = 0; device < o.devices; ++device) {
        const std::string id = sim::device_id(o.device_prefix, device + 1);
        mqtt::ConnectionPlan& plan = plans[device % n];
        plan.topics.push_back(device_topic(o.topic, id));
        if (!o.per_device) continue;
        // A device is its connection: its id is the client id, and the broker says "offline"
        // for it when it vanishes without DISCONNECT.
        plan.client_id = id;
        const std::string status = device_topic(o.status_topic, id);
        plan.will = mqtt::WillOptions{status, "offline", mqtt::QoS::AtLeastOnce, true};
        plan.birth = std::make_pair(status, std::string("online"));
    }
    for (std::uint64_t i = 0; i < n; ++i) {
        if (!o.per_device) plans[i].client_id = fmt::format("{}-{}", base, i + 1);
        if (!o.bind_addresses.empty())
            plans[i].bind_address = o.bind_addresses[i % o.bind_addresses.size()];
    }
    return plans;
}

std::unique_ptr<mqtt::Client> make_publisher_client(const PublisherOptions& o,
                                                    mqtt::ConnectOptions& connect,
                                                    mqtt::net::EventLoop& loop) {
    if (!o.fleet()) return mqtt::make_client(o.engine, loop);
    auto plans = connection_plans(o);
    if (o.connect_rate > 0)
        connect.connect_timeout += std::chrono::milliseconds(
            static_cast<std::int64_t>(1000.0 * static_cast<double>(plans.size()) / o.connect_rate));
    return std::make_unique<mqtt::MultiClient>(loop, std::move(plans), o.connect_rate);
}

}  // namespace app

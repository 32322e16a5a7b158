#pragma once
// Fleet profiles (--profile FILE, TOML): groups of devices, each with its own count, interval,
// QoS, topic and client id templates, churn and sensor behaviour. Examples in config/profiles/.

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "mqtt/client.hpp"
#include "sim/sensor_model.hpp"
#include "telemetry/payload_format.hpp"

namespace app {

// One group of alike devices. Templates take {device} (the device id), {n} (its number in the
// group, from 1) and {group} (the group's name).
struct DeviceGroup {
    std::string name;
    std::uint64_t devices{1};
    std::string id_prefix;    // device ids: <id_prefix>0001, ...
    double interval_ms{0.0};  // 0: as fast as possible (flags only)
    double jitter{0.1};
    int qos{1};
    std::string topic{"sensors/{device}/telemetry"};
    std::string client_id{"{device}"};
    double churn{0.0};
    sim::SensorBehaviour sensors{};
    // payload_format, payload_size, payload_template: as the flags, for this group only
    // (app/payload_options.cpp checks them and fills `payload`).
    std::optional<std::string> payload_format, payload_size, payload_template;
    std::optional<telemetry::PayloadSpec> payload;
    // host: the group's own way to the broker, as --host takes it (mqtt://, mqtts://, ws://,
    // wss:// URLs, a cluster's nodes), so that one run can mix transports; `endpoint` is it
    // resolved against the command line's TLS and WebSocket flags (app/publisher_options.cpp).
    std::optional<std::string> host;
    std::shared_ptr<const mqtt::BrokerEndpoint> endpoint;
};

struct FleetProfile {
    std::vector<DeviceGroup> groups;
    std::optional<double> duration_s;  // `duration`: seconds
    std::optional<std::uint64_t> seed;
};

struct ProfileError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Parses a profile; `source` names it in errors ("home.toml:12:3: ..."). Throws ProfileError.
FleetProfile parse_fleet_profile(std::string_view toml, const std::string& source);
FleetProfile load_fleet_profile(const std::string& path);

// `pattern` with {device}, {n} and {group} replaced.
std::string expand_device_template(std::string_view pattern, std::string_view device,
                                   std::uint64_t n, std::string_view group);

}  // namespace app

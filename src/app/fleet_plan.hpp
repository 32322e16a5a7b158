#pragma once
// The publisher's devices and connections, from its groups (a --profile, or the flags): each
// device's id, topic and sensors, and which device publishes on which connection (client id,
// topics, last will and birth message, local address of each).

#include <memory>
#include <string>
#include <vector>

#include "app/publisher.hpp"
#include "mqtt/client.hpp"
#include "mqtt/multi_client.hpp"
#include "net/event_loop.hpp"
#include "sim/message_numbering.hpp"
#include "sim/sensor_model.hpp"

namespace app {

struct DeviceSpec {
    std::string id;
    std::string topic;
    std::uint32_t group;   // index into PublisherOptions::groups
    std::uint64_t n;       // its number within the group, from 1
    std::uint64_t number;  // within the whole fleet (every shard), from 1: seeds its sensors
};
// The run's shape, worked out once from the options and taken by everything that needs it:
// the run, the schedule, the fleet, the connections, the state and repair.
struct RunPlan {
    std::vector<DeviceGroup> groups;  // the profile's, or one group made of the flags
    std::vector<DeviceSpec> devices;  // this process's (a shard's are some), group after group
    std::vector<std::uint32_t> devices_in_group;  // of this process's, per group
    sim::MessageNumbering numbering;              // message number <-> device and sequence
};
RunPlan plan_run(const PublisherOptions& options);

// How `device` (an index into plan.devices) reaches the broker: "tcp", "tls", "ws" or "wss".
std::string transport_of(const PublisherOptions& options, const RunPlan& plan,
                         std::uint32_t device);

sim::DeviceFleet make_device_fleet(const RunPlan& plan, std::uint64_t seed, std::string run_id);

// --commands: the topic `device` (an index into plan.devices) takes its commands on.
std::string command_topic_of(const PublisherOptions& options, const RunPlan& plan,
                             std::uint64_t device);

std::vector<mqtt::ConnectionPlan> connection_plans(const PublisherOptions& options,
                                                   const RunPlan& plan);

// --connections auto: enough connections for their windows together to reach kAutoWindow
// messages in flight, at most kMaxAutoConnections and --devices; 1 where one window already
// does, or where the probe connection fails (the run then reports why). Asks the broker on a
// probe connection and loop of its own (clean session, client id + "-probe").
inline constexpr std::size_t kAutoWindow = 200;
inline constexpr std::uint64_t kMaxAutoConnections = 8;
struct AutoConnections {
    std::uint64_t connections{1};
    std::size_t window{0};  // one connection's window, as the broker allowed it; 0: no answer
};
AutoConnections auto_connections(const PublisherOptions& options);

// The publisher's client on `loop`: one connection (make_client), or a MultiClient for
// --connections N|per-device. `connect` gets time for the ramp added to its connect timeout.
std::unique_ptr<mqtt::Client> make_publisher_client(const PublisherOptions& options,
                                                    const RunPlan& plan,
                                                    mqtt::ConnectOptions& connect,
                                                    net::EventLoop& loop);

}  // namespace app

#pragma once
// Which device publishes on which connection: the publisher's --connections, as the plans of a
// MultiClient (client id, topics, last will and birth message, local address of each).

#include <memory>
#include <string>
#include <vector>

#include "app/publisher.hpp"
#include "mqtt/client.hpp"
#include "mqtt/multi_client.hpp"
#include "mqtt/net/event_loop.hpp"

namespace app {

// `pattern` with every {device} replaced by the device id.
std::string device_topic(const std::string& pattern, const std::string& device);

std::vector<mqtt::ConnectionPlan> connection_plans(const PublisherOptions& options);

// The publisher's client on `loop`: one connection (make_client), or a MultiClient for
// --connections N|per-device. `connect` gets time for the ramp added to its connect timeout.
std::unique_ptr<mqtt::Client> make_publisher_client(const PublisherOptions& options,
                                                    mqtt::ConnectOptions& connect,
                                                    mqtt::net::EventLoop& loop);

}  // namespace app

// MQTT 5 request/response through a real Mosquitto [MQTT-4.10]: the Response Topic and the
// Correlation Data a requester sends arrive with the request, and the answer carries the
// Correlation Data back; a native client and a libmosquitto one, each as the device and as the
// commander.

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

#include "harness.hpp"
#include "mqtt/client.hpp"
#include "mqtt/engines.hpp"
#include "net/event_loop.hpp"

namespace {

using namespace std::chrono_literals;
using harness::Broker;

struct Received {
    std::string topic, payload, response_topic, correlation_data;
};

std::unique_ptr<mqtt::Client> connected(net::EventLoop& loop, const Broker& broker,
                                        const std::string& id, std::optional<Received>& inbox,
                                        const std::string& filter,
                                        mqtt::Engine engine = mqtt::Engine::Native) {
    auto c = mqtt::make_client(engine, loop);
    c->on_message([&inbox](const mqtt::Message& m) {
        inbox = Received{std::string(m.topic), std::string(m.payload),
                         std::string(m.response_topic), std::string(m.correlation_data)};
    });
    mqtt::ConnectOptions o;
    o.port = broker.port();
    o.client_id = id;
    c->connect(o);
    c->subscribe({filter}, mqtt::QoS::AtLeastOnce);
    return c;
}

// Polls both until `done` or 10 s.
template <class Done>
bool poll_until(mqtt::Client& a, mqtt::Client& b, Done done) {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < until) {
        a.poll(10ms);
        b.poll(0ms);
    }
    return done();
}

class RequestResponse : public ::testing::TestWithParam<mqtt::Engine> {};

// The device on each engine, the commander on the other (libmosquitto answers a native
// requester, and the other way round).
TEST_P(RequestResponse, TheCorrelationDataOfARequestComesBackWithItsAnswer) {
    Broker broker;
    net::EventLoop loop;
    std::optional<Received> at_device, at_commander;
    const mqtt::Engine other =
        GetParam() == mqtt::Engine::Native ? mqtt::Engine::Libmosquitto : mqtt::Engine::Native;
    auto device = connected(loop, broker, "device-1", at_device, "devices/1/cmd", GetParam());
    auto commander = connected(loop, broker, "commander", at_commander, "replies/commander", other);
    const std::string correlation(
        "\x00\x01\xff"
        "cmd-7",
        8);  // binary data, a zero byte too
    std::optional<mqtt::PublishId> sent;
    ASSERT_TRUE(poll_until(*device, *commander, [&] {
        if (!sent)
            sent = commander->publish_correlated("devices/1/cmd", "reboot", mqtt::QoS::AtLeastOnce,
                                                 {"replies/commander", correlation});
        return at_device.has_value();
    }));
    EXPECT_EQ(at_device->payload, "reboot");
    EXPECT_EQ(at_device->response_topic, "replies/commander");
    EXPECT_EQ(at_device->correlation_data, correlation);
    ASSERT_TRUE(device
                    ->publish_correlated(at_device->response_topic, "done", mqtt::QoS::AtLeastOnce,
                                         {"", at_device->correlation_data})
                    .has_value());
    ASSERT_TRUE(poll_until(*device, *commander, [&] { return at_commander.has_value(); }));
    EXPECT_EQ(at_commander->topic, "replies/commander");
    EXPECT_EQ(at_commander->payload, "done");
    EXPECT_EQ(at_commander->correlation_data, correlation);
    EXPECT_EQ(at_commander->response_topic, "") << "an answer names no Response Topic";
}

INSTANTIATE_TEST_SUITE_P(DeviceOnEachEngine, RequestResponse,
                         testing::Values(mqtt::Engine::Native, mqtt::Engine::Libmosquitto),
                         [](const auto& engine) {
                             return engine.param == mqtt::Engine::Native ? "native"
                                                                         : "libmosquitto";
                         });

}  // namespace

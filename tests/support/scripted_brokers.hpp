#pragma once
// Scripted brokers for client tests, each a ScriptedListener on a loopback port with one script.

#include <atomic>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "mqtt/protocol/codec.hpp"
#include "scripted_peer.hpp"

namespace testing_support {

// A 3.1.1 CONNACK (3.1.1, 3.2): accepted, or "unacceptable protocol version" (return code 1).
constexpr std::string_view kConnackAccepted{"\x20\x02\x00\x00", 4};
constexpr std::string_view kConnackBadVersion{"\x20\x02\x00\x01", 4};

// A 3.1.1-only broker: refuses MQTT 5 (by closing, or with return code 1), accepts 3.1.1.
// Records the protocol level of each CONNECT.
struct Mqtt311OnlyBroker {
    explicit Mqtt311OnlyBroker(bool close_without_connack)
        : listener(2, [this, close_without_connack](int fd, int) {
              const auto packet = read_packet(fd, mqtt::protocol::Version::V5);
              if (!packet || !std::holds_alternative<mqtt::protocol::Connect>(*packet)) return;
              const mqtt::protocol::Version v = std::get<mqtt::protocol::Connect>(*packet).version;
              levels.push_back(static_cast<int>(v));
              if (v == mqtt::protocol::Version::V311)
                  write_bytes(fd, kConnackAccepted);
              else if (!close_without_connack)
                  write_bytes(fd, kConnackBadVersion);
              // [MQTT-3.1.2-2]: a server may close without CONNACK on a level it does not support.
              if (v == mqtt::protocol::Version::V311)
                  read_packet(fd, mqtt::protocol::Version::V311);  // until DISCONNECT
          }) {}
    std::vector<int> levels;  // written by the listener thread, read after it joined
    ScriptedListener listener;
};

// A broker that sends three QoS 1 messages after the CONNACK and records the PUBACKs it gets.
struct PublishingBroker {
    PublishingBroker()
        : listener(1, [this](int fd, int) {
              read_packet(fd, mqtt::protocol::Version::V5);
              std::string out;
              mqtt::protocol::encode(mqtt::protocol::Connack{}, mqtt::protocol::Version::V5, out);
              for (std::uint16_t id = 1; id <= 3; ++id) {
                  mqtt::protocol::Publish p;
                  p.topic = "t";
                  p.payload = "m";
                  p.qos = 1;
                  p.packet_id = id;
                  mqtt::protocol::encode(p, mqtt::protocol::Version::V5, out);
              }
              write_bytes(fd, out);
              for (const auto type : packet_types_until_closed(fd, mqtt::protocol::Version::V5))
                  if (type == mqtt::protocol::PacketType::Puback) ++pubacks;
          }) {}
    std::atomic<int> pubacks{0};
    ScriptedListener listener;
};

// A broker that accepts the connection and then never acknowledges a message: a CONNACK for
// MQTT 5 (accepted, no properties), then it reads and discards until the client goes.
struct SilentBroker {
    ScriptedListener listener{1, [](int fd, int) {
                                  read_packet(fd, mqtt::protocol::Version::V5);  // CONNECT
                                  write_bytes(fd, std::string_view("\x20\x03\x00\x00\x00", 5));
                                  discard_until_closed(fd);
                              }};
    std::string port() const { return std::to_string(listener.port()); }
};

}  // namespace testing_support

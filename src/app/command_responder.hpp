#pragma once
// The devices' side of cloud-to-device commands (mqtt_publisher --commands): every device
// subscribes to its command topic; a command that arrives is accepted at once and answered once
// executed (sim::CommandExecutor: service time, seeded failures, deduplication or not). Answers
// go to the command's Response Topic with its Correlation Data (MQTT 5) or, without one, to the
// reply topic the command names (MQTT 3.1.1). They wait in a queue for their time and for room
// in the client's window; the run sends what send_due() gives it.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "mqtt/client.hpp"
#include "sim/command_executor.hpp"
#include "telemetry/command.hpp"

namespace app {

class CommandResponder {
  public:
    using Clock = std::chrono::steady_clock;

    explicit CommandResponder(sim::CommandBehaviour behaviour) : executor_(behaviour) {}

    // A message on a device's command topic, arrived at `now`. A payload that is no command is
    // counted, and the first named (first_unreadable()).
    void on_command(const mqtt::Message& message, Clock::time_point now);
    // Publishes the answers that are due, while the client takes them; each sent one's id goes
    // to `sent` (its confirmation is not a reading's).
    template <class Sent>
    void send_due(mqtt::Client& client, Clock::time_point now, Sent&& sent) {
        while (auto id = send_next(client, now)) sent(*id);
    }

    struct Counts {
        std::uint64_t received{}, executed{}, executed_again{}, recognised{}, answers_sent{};
        std::uint64_t unreadable{};
    };
    Counts counts() const;
    // The first unreadable command and why, for a warning; empty when none.
    const std::string& first_unreadable() const { return first_unreadable_; }
    bool answering() const { return !due_.empty(); }

  private:
    struct Outgoing {
        std::string topic, payload, correlation;
        std::string request_topic;  // the device's command topic: answered over its connection
        bool v5{false};             // answer with the Correlation Data (MQTT 5)
    };
    std::optional<mqtt::PublishId> send_next(mqtt::Client& client, Clock::time_point now);
    void queue(Clock::time_point at, const telemetry::CommandAnswer& answer,
               const mqtt::Message& command, const std::string& reply_to);

    sim::CommandExecutor executor_;
    std::multimap<Clock::time_point, Outgoing> due_;  // by when they are due, then in order
    std::uint64_t received_{0}, answers_sent_{0}, unreadable_{0};
    std::string first_unreadable_;
};

}  // namespace app

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
    // to `sent` (its confirmation is not a reading's). An answer whose connection has no room
    // (its window is full, or it is reconnecting) waits without holding up other devices'
    // answers; at most kSkipped of them are passed over per call, which bounds the walk.
    template <class Sent>
    void send_due(mqtt::Client& client, Clock::time_point now, Sent&& sent) {
        std::size_t skipped = 0;
        for (auto it = due_.begin(); it != due_.end() && it->first <= now && skipped < kSkipped;) {
            if (it->second.topic.empty()) {  // a 3.1.1 command without reply_to: nowhere to answer
                it = due_.erase(it);
            } else if (const auto id = send(client, it->second)) {
                sent(*id);
                it = due_.erase(it);
            } else {
                ++skipped;
                ++it;
            }
        }
    }

    struct Counts {
        std::uint64_t received{}, executed{}, executed_again{}, recognised{}, answers_sent{};
        std::uint64_t unreadable{};
    };
    Counts counts() const;
    // The first unreadable command and why, for a warning; empty when none.
    const std::string& first_unreadable() const { return first_unreadable_; }
    bool answering() const { return !due_.empty(); }
    // When the next answer after `now` falls due (those due by now wait for room, which a
    // PUBACK makes), so that the loop wakes for it; none when none is.
    std::optional<Clock::time_point> next_due_after(Clock::time_point now) const {
        const auto next = due_.upper_bound(now);
        return next == due_.end() ? std::nullopt : std::optional(next->first);
    }

  private:
    struct Outgoing {
        std::string topic, payload, correlation;
        std::string request_topic;  // the device's command topic: answered over its connection
        bool v5{false};             // answer with the Correlation Data (MQTT 5)
    };
    static constexpr std::size_t kSkipped = 64;
    std::optional<mqtt::PublishId> send(mqtt::Client& client, const Outgoing& answer);
    void queue(Clock::time_point at, const telemetry::CommandAnswer& answer,
               const mqtt::Message& command, const std::string& reply_to);

    sim::CommandExecutor executor_;
    std::multimap<Clock::time_point, Outgoing> due_;  // by when they are due, then in order
    std::uint64_t received_{0}, answers_sent_{0}, unreadable_{0};
    std::string first_unreadable_;
};

}  // namespace app

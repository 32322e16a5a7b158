#include "app/command_responder.hpp"

#include "app/cli_common.hpp"

#include <fmt/format.h>

namespace app {

void CommandResponder::on_command(const mqtt::Message& m, Clock::time_point now) {
    const std::int64_t now_us = epoch_us(std::chrono::system_clock::now());
    ++received_;
    std::string error;
    const auto command = telemetry::decode_command(m.payload, error);
    if (!command) {
        if (unreadable_++ == 0)
            first_unreadable_ = fmt::format("a command on {} is unreadable: {}", m.topic, error);
        return;
    }
    const sim::CommandExecutor::Answers a = executor_.take(*command, now_us);
    queue(now, a.accepted, m, command->reply_to);
    queue(now + a.after, a.final, m, command->reply_to);
}

void CommandResponder::queue(Clock::time_point at, const telemetry::CommandAnswer& answer,
                             const mqtt::Message& command, const std::string& reply_to) {
    const bool v5 = !command.response_topic.empty();
    due_.emplace(at,
                 Outgoing{v5 ? std::string(command.response_topic) : reply_to,
                          telemetry::encode_answer(answer), std::string(command.correlation_data),
                          std::string(command.topic), v5});
}

std::optional<mqtt::PublishId> CommandResponder::send(mqtt::Client& client, const Outgoing& o) {
    // Over MQTT 3.1.1 the answer has no properties, but still leaves by the device's connection.
    const auto id = client.publish_correlated(o.topic, o.payload, mqtt::QoS::AtLeastOnce,
                                              {"", o.v5 ? o.correlation : "", o.request_topic});
    if (id) ++answers_sent_;
    return id;
}

CommandResponder::Counts CommandResponder::counts() const {
    return {received_,     executor_.executed(), executor_.executed_again(), executor_.recognised(),
            answers_sent_, unreadable_};
}

}  // namespace app

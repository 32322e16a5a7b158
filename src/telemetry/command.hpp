#pragma once
// Cloud-to-device commands and their answers: what a commander (mqtt_commander) sends to a
// device's command topic and what the device sends back, as small JSON objects that any consumer
// can read. Over MQTT 5 the answer goes to the request's Response Topic with its Correlation
// Data [MQTT-4.10]; the ids inside make the exchange checkable over MQTT 3.1.1 too.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace telemetry {

struct Command {
    std::string run;            // the commander's run id
    std::uint64_t id{};         // unique within the run, from 1
    std::string device;         // the device it is for
    std::uint64_t seq{};        // the device's own command number (1, 2, ...): order per device
    std::int64_t sent_us{};     // when the commander scheduled it (epoch µs; open loop)
    std::string name{"apply"};  // what to do
    // Where to answer when the message has no Response Topic (MQTT 3.1.1 has none).
    std::string reply_to;
    bool operator==(const Command&) const = default;
};

// A device answers twice: Accepted when the command reaches it (it was delivered), then Ok or
// Failed once it has executed it (it was answered).
enum class CommandResult { Accepted, Ok, Failed };

struct CommandAnswer {
    std::string run;
    std::uint64_t id{};
    std::string device;
    std::uint64_t seq{};
    CommandResult result{CommandResult::Ok};
    // Times this device has executed this command id: 1, or more for a redelivery it did not
    // recognise as one (a device that does not deduplicate).
    std::uint32_t executions{1};
    bool duplicate{false};       // a redelivery the device recognised and did not execute again
    std::int64_t received_us{};  // the device got the command (epoch µs)
    std::int64_t answered_us{};  // the device sent this answer (for Accepted: received_us)
    bool operator==(const CommandAnswer&) const = default;
};

std::string encode_command(const Command& command);
std::string encode_answer(const CommandAnswer& answer);
// nullopt for anything that is not one, with `error` saying why.
std::optional<Command> decode_command(std::string_view payload, std::string& error);
std::optional<CommandAnswer> decode_answer(std::string_view payload, std::string& error);

}  // namespace telemetry

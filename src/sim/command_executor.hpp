#pragma once
// How simulated devices take commands (mqtt_publisher --commands): a command is accepted when
// it arrives and answered after a service time, failing at a rate drawn from the seed (the same
// command fails on every run with the same seed). A deduplicating device remembers the command
// ids it executed and answers a redelivery again without executing it; one that does not
// executes the redelivery as a new command, and its answer says how many times it did.

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "telemetry/command.hpp"

namespace sim {

struct CommandBehaviour {
    std::chrono::microseconds service{0};  // from receipt to the final answer
    double failure_rate{0.0};              // 0 to 1: the share of commands that fail
    bool deduplicate{true};
    std::uint64_t seed{1};
};

class CommandExecutor {
  public:
    explicit CommandExecutor(CommandBehaviour behaviour) : behaviour_(behaviour) {}

    struct Answers {
        telemetry::CommandAnswer accepted;   // to send now
        telemetry::CommandAnswer final;      // to send `service` later
        std::chrono::microseconds after{0};  // when, from now
    };
    // `command` arrived at its device at `now_us` (epoch µs).
    Answers take(const telemetry::Command& command, std::int64_t now_us);

    // Commands executed, redeliveries executed again (not deduplicating) and redeliveries
    // recognised (deduplicating).
    std::uint64_t executed() const { return executed_; }
    std::uint64_t executed_again() const { return executed_again_; }
    std::uint64_t recognised() const { return recognised_; }

  private:
    bool fails(const telemetry::Command& command) const;

    CommandBehaviour behaviour_;
    // run/device/id -> executions; what a device remembers (deduplicating) or counts anyway.
    std::unordered_map<std::string, std::uint32_t> executions_;
    std::uint64_t executed_{0}, executed_again_{0}, recognised_{0};
};

}  // namespace sim

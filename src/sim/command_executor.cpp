#include "sim/command_executor.hpp"

#include <functional>

#include "telemetry/splitmix64.hpp"

namespace sim {

bool CommandExecutor::fails(const telemetry::Command& c) const {
    if (behaviour_.failure_rate <= 0.0) return false;
    telemetry::SplitMix64 draw(behaviour_.seed ^ (c.id * 0x9E3779B97F4A7C15ULL) ^
                               std::hash<std::string>{}(c.device));
    return draw.uniform() < behaviour_.failure_rate;
}

CommandExecutor::Answers CommandExecutor::take(const telemetry::Command& c, std::int64_t now_us) {
    std::uint32_t& executions = executions_[c.run + '/' + c.device + '/' + std::to_string(c.id)];
    const bool redelivered = executions > 0;
    const bool execute = !redelivered || !behaviour_.deduplicate;
    if (execute) {
        ++executions;
        ++(redelivered ? executed_again_ : executed_);
    } else {
        ++recognised_;
    }
    Answers a;
    a.accepted = {c.run,      c.id,     c.device, c.seq, telemetry::CommandResult::Accepted,
                  executions, !execute, now_us,   now_us};
    a.after = execute ? behaviour_.service : std::chrono::microseconds(0);
    a.final = a.accepted;
    a.final.result = fails(c) ? telemetry::CommandResult::Failed : telemetry::CommandResult::Ok;
    a.final.answered_us = now_us + a.after.count();
    return a;
}

}  // namespace sim

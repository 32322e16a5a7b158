#pragma once
// The commander's ledger: every command sent, and what came back for it. A command is
// delivered when its device says it got it (an Accepted answer), answered when the device says
// it executed it (Ok or Failed), late when that answer came after the timeout, lost when no
// answer had come by the end. A device that executed a command more than once (it took a
// redelivery for a new command) says so in its answer: executed twice. Answers of one device
// must come in the order its commands were sent: out of order otherwise.
//
// Latencies, in µs, from the commander's schedule (open loop, so a commander that falls behind
// shows as latency instead of hiding it): the round trip to the final answer, and its legs
// commander -> device (to the device's receipt), device work (receipt to answer) and device ->
// commander (the answer's send to its arrival). The legs compare two hosts' clocks.

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "telemetry/command.hpp"
#include "telemetry/latency_histogram.hpp"

namespace telemetry {

struct CommandTotals {
    std::uint64_t sent{}, delivered{}, answered{}, answered_late{}, failed{}, lost{}, pending{};
    std::uint64_t executed_twice{};     // commands some device executed more than once
    std::uint64_t duplicate_answers{};  // a second final answer for the same command
    std::uint64_t out_of_order{};       // final answers that came before an earlier command's
    std::uint64_t unknown{};            // answers to commands this ledger never sent
};

class CommandLedger {
  public:
    using Clock = std::chrono::steady_clock;

    explicit CommandLedger(std::chrono::microseconds timeout) : timeout_(timeout) {}

    // A command handed to the client, scheduled at `scheduled` (epoch µs `scheduled_us`).
    void sent(const Command& command, Clock::time_point scheduled);
    // An answer that arrived at `now` (epoch µs `now_us`).
    void answered(const CommandAnswer& answer, Clock::time_point now, std::int64_t now_us);

    // As of `now`: commands without a final answer count as lost once their timeout passed
    // (pending before).
    CommandTotals totals(Clock::time_point now) const;
    // Every command has its final answer.
    bool settled() const { return open_ == 0; }
    // Commands with a final answer so far (without totals()' walk over every command).
    std::uint64_t answered() const { return counts_.answered; }
    std::uint64_t delivered() const { return counts_.delivered; }
    // The devices with commands still unanswered as of `now` past their timeout, at most `n`,
    // each with how many (a device that never answers is named).
    std::vector<std::string> silent_devices(Clock::time_point now, std::size_t n) const;

    const LatencyHistogram& round_trip() const { return round_trip_; }
    // The round trips recorded since the last call (a timeline's second), and starts anew.
    LatencyHistogram take_second_round_trip() { return std::exchange(second_round_trip_, {}); }
    const LatencyHistogram& to_device() const { return to_device_; }
    const LatencyHistogram& device_work() const { return device_work_; }
    const LatencyHistogram& from_device() const { return from_device_; }

  private:
    struct Sent {
        std::string device;
        std::uint64_t seq{};
        std::int64_t sent_us{};
        Clock::time_point scheduled;
        bool delivered{false}, answered{false}, executed_twice{false};
    };
    void final_answer(Sent& command, const CommandAnswer& answer, Clock::time_point now,
                      std::int64_t now_us);

    std::chrono::microseconds timeout_;
    std::unordered_map<std::uint64_t, Sent> commands_;
    std::unordered_map<std::string, std::uint64_t> last_answered_seq_;  // per device
    std::uint64_t open_{0};
    CommandTotals counts_;  // all but lost and pending, which depend on the time
    LatencyHistogram round_trip_, to_device_, device_work_, from_device_;
    LatencyHistogram second_round_trip_;
};

}  // namespace telemetry

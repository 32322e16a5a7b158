#pragma once
// Paces sends to a fixed schedule: message n is due at start + n / rate. The schedule is
// absolute, so a stall is followed by catching up instead of silently lowering the rate.

#include <chrono>
#include <cstdint>

namespace sim {

class RatePacer {
  public:
    using Clock = std::chrono::steady_clock;

    // rate_per_s == 0 means unpaced: every message is due immediately.
    RatePacer(double rate_per_s, Clock::time_point start) : rate_(rate_per_s), start_(start) {}

    // How many messages in total are due by `now`.
    std::uint64_t due_by(Clock::time_point now) const;
    // When message number `n` (0-based) is due.
    Clock::time_point due_time(std::uint64_t n) const;
    bool paced() const { return rate_ > 0.0; }

  private:
    double rate_;
    Clock::time_point start_;
};

}  // namespace sim

#pragma once
// Which devices of a fleet drop off during a run, and when (--churn): a share of the devices,
// chosen at random, each vanishes once at a random moment between `from` and `to` after the
// start. Pure logic, reproducible from the seed.

#include <chrono>
#include <cstdint>
#include <vector>

namespace sim {

class ChurnPlan {
  public:
    using Clock = std::chrono::steady_clock;

    struct Drop {
        Clock::time_point at;
        std::uint32_t device;
    };

    ChurnPlan() = default;  // nobody drops
    // round(share * devices) distinct devices (share in [0, 1]).
    ChurnPlan(std::uint32_t devices, double share, Clock::time_point from, Clock::time_point to,
              std::uint64_t seed);
    // The same per group of devices: round(share * count) of devices [first, first + count).
    struct Group {
        std::uint32_t first;
        std::uint32_t count;
        double share;
    };
    ChurnPlan(const std::vector<Group>& groups, Clock::time_point from, Clock::time_point to,
              std::uint64_t seed);

    // The drops due by `now`, each once, earliest first.
    std::vector<std::uint32_t> due(Clock::time_point now);
    std::size_t planned() const { return drops_.size(); }

  private:
    std::vector<Drop> drops_;  // by time
    std::size_t next_{0};
};

}  // namespace sim

#pragma once
// When each device of a fleet takes its readings: every device on a clock of its own, one
// reading every `interval` (each interval varied by up to +-jitter of it), the first spread at
// random over the first interval so the fleet does not send in bursts. `count` readings in all,
// spread as evenly over the devices as they divide. Unpaced (interval 0): everything is due at
// once, the devices in turn. Pure logic: the caller gives the times; reproducible from the seed.
//
// A device takes its next reading only after the caller says it is done with the last one
// (done()), so a device whose connection is down holds its readings back in order.

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "sim/message_numbering.hpp"
#include "sim/sensor_model.hpp"

namespace sim {

class FleetSchedule {
  public:
    using Clock = std::chrono::steady_clock;

    // One device's clock: how often and how many readings.
    struct DeviceClock {
        std::chrono::nanoseconds interval{0};
        std::uint64_t readings{0};
        float jitter{0.0F};  // 0.1: each interval is 90-110% of `interval`
    };
    struct Config {
        std::uint64_t devices{1};
        std::uint64_t count{1};
        std::chrono::nanoseconds interval{0};
        double jitter{0.0};
        std::uint64_t seed{1};
        // If given, each device's own clock instead of the four above (a profile's groups).
        std::vector<DeviceClock> clocks{};
    };
    // One reading of one device: when it is due, and which of the device's readings (0-based).
    struct Due {
        Clock::time_point at;
        std::uint64_t reading;
        std::uint32_t device;
    };

    // Throws std::invalid_argument for no devices or more than 2^32.
    FleetSchedule(const Config& config, Clock::time_point start);

    // The earliest reading not yet popped; nullopt when none is left to pop.
    std::optional<Due> next() const;
    // Removes next(): the device's following reading is scheduled when done() says so.
    Due pop();
    // The caller is done with `taken` (published it): schedules the device's next reading,
    // `interval` after this one's due time (the schedule is absolute: a late reading does not
    // push the later ones back).
    void done(const Due& taken);

    // Readings device `device` takes in the whole run.
    std::uint64_t readings_of(std::uint32_t device) const;
    // Whether readings wait for their time (else all are due at once).
    bool paced() const { return paced_; }

  private:
    Clock::duration jittered(std::uint32_t device);

    std::vector<DeviceClock> clocks_;
    SplitMix64 rng_;
    std::vector<Due> heap_;  // earliest first (std::push_heap with `later`)
    bool paced_{false};
};

}  // namespace sim

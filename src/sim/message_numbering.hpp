#pragma once
// How a run numbers its messages: the devices take turns, so message k (from 0) is device
// k mod devices with sequence number k / devices + 1 (from 1). The publisher's rate schedule,
// its crash-safe state (messages confirmed through k), repair (a device's sequence numbers back
// to message numbers) and the fleet's per-device clocks all count by this one rule.

#include <cstdint>

namespace sim {

struct MessageNumbering {
    std::uint64_t devices{1};  // at least 1

    std::uint64_t device_of(std::uint64_t number) const { return number % devices; }
    std::uint64_t sequence_of(std::uint64_t number) const { return number / devices + 1; }
    std::uint64_t number_of(std::uint64_t device, std::uint64_t sequence) const {
        return (sequence - 1) * devices + device;
    }
    // Of `count` messages, how many device `device` sends: the first count % devices send one
    // more than the others.
    std::uint64_t readings_of(std::uint64_t device, std::uint64_t count) const {
        return count / devices + (device < count % devices ? 1 : 0);
    }
};

}  // namespace sim

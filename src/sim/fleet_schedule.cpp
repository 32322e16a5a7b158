#include "sim/fleet_schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <stdexcept>

namespace sim {
namespace {

// Orders the heap earliest first; equal times go by reading, then device (devices in turn).
bool later(const FleetSchedule::Due& a, const FleetSchedule::Due& b) {
    if (a.at != b.at) return a.at > b.at;
    if (a.reading != b.reading) return a.reading > b.reading;
    return a.device > b.device;
}

}  // namespace

FleetSchedule::FleetSchedule(const Config& config, Clock::time_point start)
    : clocks_(config.clocks), rng_(config.seed ^ 0xF1EE75C4ED01EULL) {
    if (clocks_.empty()) {
        if (config.devices == 0 || config.devices > UINT32_MAX)
            throw std::invalid_argument(
                fmt::format("{} devices: 1 to {} are possible", config.devices, UINT32_MAX));
        // `count` as evenly over the devices as they divide.
        clocks_.resize(config.devices);
        const MessageNumbering numbering{config.devices};
        for (std::uint64_t d = 0; d < config.devices; ++d)
            clocks_[d] = {config.interval, numbering.readings_of(d, config.count),
                          static_cast<float>(std::clamp(config.jitter, 0.0, 1.0))};
    }
    if (clocks_.size() > UINT32_MAX)
        throw std::invalid_argument(
            fmt::format("{} devices: 1 to {} are possible", clocks_.size(), UINT32_MAX));
    heap_.reserve(clocks_.size());
    std::uniform_real_distribution<double> phase(0.0, 1.0);
    for (std::size_t d = 0; d < clocks_.size(); ++d) {
        const auto interval = std::chrono::duration_cast<Clock::duration>(clocks_[d].interval);
        paced_ = paced_ || interval.count() > 0;
        if (clocks_[d].readings == 0) continue;
        const auto offset = std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double, Clock::period>(phase(rng_) *
                                                         static_cast<double>(interval.count())));
        heap_.push_back({start + offset, 0, static_cast<std::uint32_t>(d)});
    }
    std::make_heap(heap_.begin(), heap_.end(), later);
}

std::optional<FleetSchedule::Due> FleetSchedule::next() const {
    if (heap_.empty()) return std::nullopt;
    return heap_.front();
}

FleetSchedule::Due FleetSchedule::pop() {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    const Due due = heap_.back();
    heap_.pop_back();
    return due;
}

void FleetSchedule::done(const Due& taken) {
    if (taken.reading + 1 >= readings_of(taken.device)) return;
    heap_.push_back({taken.at + jittered(taken.device), taken.reading + 1, taken.device});
    std::push_heap(heap_.begin(), heap_.end(), later);
}

std::uint64_t FleetSchedule::readings_of(std::uint32_t device) const {
    return clocks_[device].readings;
}

FleetSchedule::Clock::duration FleetSchedule::jittered(std::uint32_t device) {
    const DeviceClock& c = clocks_[device];
    const auto interval = std::chrono::duration_cast<Clock::duration>(c.interval);
    if (c.jitter == 0.0F) return interval;
    std::uniform_real_distribution<double> factor(1.0 - c.jitter, 1.0 + c.jitter);
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, Clock::period>(
        factor(rng_) * static_cast<double>(interval.count())));
}

}  // namespace sim

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
    : devices_(config.devices),
      count_(config.count),
      interval_(std::chrono::duration_cast<Clock::duration>(config.interval)),
      jitter_(std::clamp(config.jitter, 0.0, 1.0)),
      rng_(config.seed ^ 0xF1EE75C4ED01EULL) {
    if (devices_ == 0 || devices_ > UINT32_MAX)
        throw std::invalid_argument(
            fmt::format("{} devices: 1 to {} are possible", devices_, UINT32_MAX));
    heap_.reserve(devices_);
    std::uniform_real_distribution<double> phase(0.0, 1.0);
    for (std::uint64_t d = 0; d < devices_; ++d) {
        if (readings_of(static_cast<std::uint32_t>(d)) == 0) continue;
        const auto offset = std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double, Clock::period>(phase(rng_) *
                                                         static_cast<double>(interval_.count())));
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
    heap_.push_back({taken.at + jittered(), taken.reading + 1, taken.device});
    std::push_heap(heap_.begin(), heap_.end(), later);
}

std::uint64_t FleetSchedule::readings_of(std::uint32_t device) const {
    return count_ / devices_ + (device < count_ % devices_ ? 1 : 0);
}

FleetSchedule::Clock::duration FleetSchedule::jittered() {
    if (jitter_ == 0.0) return interval_;
    std::uniform_real_distribution<double> factor(1.0 - jitter_, 1.0 + jitter_);
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, Clock::period>(
        factor(rng_) * static_cast<double>(interval_.count())));
}

}  // namespace sim

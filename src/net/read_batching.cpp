#include "net/read_batching.hpp"

#include <algorithm>
#include <utility>

namespace net {

void ReadBatching::round_ended(std::size_t bytes, Clock::duration waited) {
    last_light_ = bytes > 0 && bytes < light_bytes_;
    if (bytes > 0) streaming_ = waited < pause_;
}

std::chrono::microseconds ReadBatching::pause_before(std::chrono::microseconds timeout,
                                                     bool peer_waits_on_us) const {
    if (!last_light_ || !streaming_ || peer_waits_on_us || timeout.count() == 0)
        return std::chrono::microseconds(0);
    return std::min<std::chrono::microseconds>(pause_, timeout);
}

void QueueGauge::observe(Clock::duration rtt) {
    // An exponentially weighted mean (1/8, as TCP's SRTT), against the minimum of this period
    // and the one before, so that a path that became slower is the new base within two periods.
    smoothed_ = samples_ == 0 && min_before_ == Clock::duration::max()
                    ? rtt
                    : smoothed_ + (rtt - smoothed_) / 8;
    min_now_ = std::min(min_now_, rtt);
    if (++samples_ < kPeriod) return;
    min_before_ = std::exchange(min_now_, Clock::duration::max());
    samples_ = 0;
}

QueueGauge::Clock::duration QueueGauge::queue_delay() const {
    const auto base = std::min(min_now_, min_before_);
    if (base == Clock::duration::max() || smoothed_ <= base) return Clock::duration::zero();
    return smoothed_ - base;
}

}  // namespace net

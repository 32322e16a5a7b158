#include "mqtt/adaptive_window.hpp"

#include <algorithm>

namespace mqtt {

AdaptiveWindow::AdaptiveWindow(Config config)
    : config_(config),
      window_(std::clamp(config.initial, config.min, config.max)),
      limit_(config.max) {}

void AdaptiveWindow::limit_to(std::size_t limit) {
    limit_ = std::max<std::size_t>(1, std::min(limit, config_.max));
    window_ = std::min(window_, limit_);
}

void AdaptiveWindow::on_confirmed(Clock::time_point published_at, Clock::time_point now) {
    const auto rtt = now - published_at;
    min_rtt_ = std::min(min_rtt_, rtt);
    // A message sent before the window last changed says nothing about the new window.
    if (published_at < changed_at_) return;
    if (!epoch_open_) {
        epoch_open_ = true;
        epoch_start_ = now;
        epoch_confirmed_ = 0;
        epoch_min_rtt_ = Clock::duration::max();
        return;
    }
    ++epoch_confirmed_;
    epoch_min_rtt_ = std::min(epoch_min_rtt_, rtt);
    // An epoch spans one window of confirmations (one round trip), so that what it measures
    // belongs to the window it was measured with; after the start also at least min_epoch, so
    // that the rate is not noise. At the start it doubles once per round trip, as TCP does.
    if (epoch_confirmed_ >= window_ && (starting_ || now - epoch_start_ >= config_.min_epoch))
        end_epoch(now);
}

bool AdaptiveWindow::window_carries_rate(double rate) const {
    if (previous_window_ == 0 || previous_window_ == window_ || previous_rate_ <= 0) return false;
    const double window_change =
        static_cast<double>(window_) / static_cast<double>(previous_window_);
    const double rate_change = rate / previous_rate_;
    // Elasticity of the rate in the window: 1 where the window alone sets the rate, 0 where a
    // queue absorbs every extra message.
    return (rate_change - 1) / (window_change - 1) >= 0.5;
}

void AdaptiveWindow::end_epoch(Clock::time_point now) {
    epoch_open_ = false;  // the next confirmation starts the next epoch
    const double seconds = std::chrono::duration<double>(now - epoch_start_).count();
    const double rate = static_cast<double>(epoch_confirmed_) / seconds;
    const double lowest = std::chrono::duration<double>(epoch_min_rtt_).count();
    const double base = std::chrono::duration<double>(min_rtt_).count();
    const double target =
        std::max(std::chrono::duration<double>(config_.target_delay).count(), base / 4);
    const double queue = lowest - base;  // what every message of the epoch waited

    const auto w = static_cast<double>(window_);
    const auto previous = static_cast<double>(previous_window_);
    const bool changed = previous_window_ != 0 && previous_window_ != window_;
    if (changed) carried_ = window_carries_rate(rate);
    previous_window_ = window_;
    previous_rate_ = rate;
    if (queue <= target) return set_window(w * (starting_ ? 2.0 : config_.grow), now);
    starting_ = false;
    // The delay rose. A queue the window made holds every message about as long: the lowest
    // round trip is then near the mean, which is window / rate (Little's law). Where the lowest
    // stays far below the mean, some messages still cross at the path's speed and the others
    // wait for the path (loss, jitter, head-of-line blocking): not a queue, keep growing.
    if (lowest < w / rate / 2) return set_window(w * config_.grow, now);
    // Where the rate followed the last change of the window, the delay is the path's too:
    // keep a grown window growing, undo a shrink.
    if (changed && carried_) return set_window(w > previous ? w * config_.grow : previous, now);
    // A growth that bought no rate: back to where it was, the knee is near.
    if (changed && w > previous) return set_window(previous, now);
    // A shrink that cost no rate: step further down, gently (the knee is near).
    if (changed && w < previous) return set_window(w / config_.grow, now);
    // Held at a limit where the rate last followed the window: probe a step down.
    if (!changed && carried_) return set_window(w / config_.grow, now);
    // A standing queue: what the path carries plus the target, never more than halving.
    set_window(std::max(rate * (base + target), w / 2), now);
}

void AdaptiveWindow::set_window(double w, Clock::time_point now) {
    const auto next = static_cast<std::size_t>(
        std::clamp(w, static_cast<double>(config_.min), static_cast<double>(limit_)));
    if (next != window_) changed_at_ = now;
    window_ = next;
}

}  // namespace mqtt

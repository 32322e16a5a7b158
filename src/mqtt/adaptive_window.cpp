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
    if (!epoch_open_) {
        epoch_open_ = true;
        epoch_start_ = now;
        epoch_confirmed_ = 0;
        epoch_min_rtt_ = Clock::duration::max();
        return;
    }
    const auto rtt = now - published_at;
    ++epoch_confirmed_;
    epoch_min_rtt_ = std::min(epoch_min_rtt_, rtt);
    min_rtt_ = std::min(min_rtt_, rtt);
    // An epoch spans one window of confirmations (one round trip), so that what it measures
    // belongs to the window it was measured with; after the start also at least min_epoch, so
    // that the rate is not noise. At the start it doubles once per round trip, as TCP does.
    if (epoch_confirmed_ >= window_ && (starting_ || now - epoch_start_ >= config_.min_epoch))
        end_epoch(now);
}

void AdaptiveWindow::end_epoch(Clock::time_point now) {
    epoch_open_ = false;  // the next confirmation starts the next epoch
    const double seconds = std::chrono::duration<double>(now - epoch_start_).count();
    const double rate = static_cast<double>(epoch_confirmed_) / seconds;
    const double lowest = std::chrono::duration<double>(epoch_min_rtt_).count();
    const double base = std::chrono::duration<double>(min_rtt_).count();
    const double target =
        std::max(std::chrono::duration<double>(config_.target_delay).count(), base / 4);

    const auto w = static_cast<double>(window_);
    if (lowest - base <= target) return set_window(w * (starting_ ? 2.0 : config_.grow));
    starting_ = false;
    set_window(std::max(rate * (base + target), w / 2));
}

void AdaptiveWindow::set_window(double w) {
    window_ = static_cast<std::size_t>(
        std::clamp(w, static_cast<double>(config_.min), static_cast<double>(limit_)));
}

}  // namespace mqtt

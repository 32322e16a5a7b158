#pragma once
// `--window auto`: how many messages a publisher keeps unconfirmed. Every message beyond what
// the path needs waits in a queue (Little's law: latency = in flight / rate), so the window
// should carry the path's rate with only a short queue. A delay-based controller in the manner
// of TCP Vegas and BBR, on the PUBACK round trip, with one guard against noise:
//   - it tracks the minimum round trip (the path and the broker without a queue, over the
//     run), and each epoch's confirmation rate and lowest round trip;
//   - while the epoch's lowest round trip stays within a target of the minimum (no standing
//     queue), the window grows (doubling at the start, then by a quarter per epoch, which
//     also probes for a faster path), up to the broker's Receive Maximum;
//   - when even the lowest round trip rose, it asks whether a queue made it. A queue holds
//     every message about as long, so the lowest round trip nears the mean (window / rate,
//     Little's law); through loss or jitter some messages still cross at the path's speed
//     and the lowest stays below half the mean: the window keeps growing. It also asks
//     whether the rate followed the window's last change (elasticity >= 0.5): if so the delay
//     is the path's as well, a grown window keeps growing, a shrink is undone, a window held
//     at its limit probes one step down. A growth that bought no rate is undone. Otherwise it
//     is a queue: the window becomes the larger of rate x (minimum round trip + target) and
//     half the window.
// Delay alone cannot tell the two apart: through 5% loss or +-20 ms of jitter every epoch's
// lowest round trip rises with the window, and a controller on delay alone drove the window
// to its floor (585 msg/s against 19,927 with -w 1000). Confirmations of messages sent before
// the window last changed are not counted, so that an epoch measures the window it ran with.
// The target (2 ms, or a quarter of the minimum round trip on slow paths) leaves a broker that
// works in batches enough to batch. Pure logic: fed confirmation times, no clock or socket.

#include <chrono>
#include <cstddef>

namespace mqtt {

class AdaptiveWindow {
  public:
    using Clock = std::chrono::steady_clock;

    struct Config {
        std::size_t initial{32};
        std::size_t min{16};
        std::size_t max{65'000};  // --window-max, and never above the broker's Receive Maximum
        Clock::duration min_epoch{std::chrono::milliseconds(100)};
        Clock::duration target_delay{std::chrono::milliseconds(2)};
        double grow{1.25};
    };

    explicit AdaptiveWindow(Config config);
    AdaptiveWindow() : AdaptiveWindow(Config{}) {}

    // A message published at `published_at` was confirmed at `now`.
    void on_confirmed(Clock::time_point published_at, Clock::time_point now);
    // The broker's (or the engine's) limit: the window never exceeds it.
    void limit_to(std::size_t limit);

    std::size_t window() const { return window_; }
    Clock::duration min_rtt() const { return min_rtt_; }
    bool starting() const { return starting_; }

  private:
    void end_epoch(Clock::time_point now);
    bool window_carries_rate(double rate) const;
    void set_window(double w, Clock::time_point now);

    Config config_;
    std::size_t window_;
    std::size_t limit_;
    bool starting_{true};
    Clock::time_point epoch_start_{};
    bool epoch_open_{false};
    std::size_t epoch_confirmed_{0};
    Clock::duration epoch_min_rtt_{Clock::duration::max()};
    Clock::time_point changed_at_{};
    std::size_t previous_window_{0};
    double previous_rate_{0};
    bool carried_{false};
    Clock::duration min_rtt_{Clock::duration::max()};
};

}  // namespace mqtt

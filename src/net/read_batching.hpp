#pragma once
// When an event loop may wait a little before its next read, so that more packets arrive per
// wake-up. On two cores a consumer that wakes for every small write of the broker takes the CPU
// the broker needs (scripts/bench, 1M at QoS 1: 3.0 µs of client CPU per message with a 500 µs
// pause after light reads, 4.1 µs with 200 µs). But a pause is dead time whenever a peer waits
// for us: a publisher whose PUBACKs free its window, or a broker that may not send more until our
// PUBACKs arrive. With a window of 20 on a ~100 µs loopback round trip, a 500 µs pause after each
// light read made every round trip 1.3 ms and cut the run to a tenth. So a pause is taken only
//   - after a light round (some bytes, fewer than `light_bytes`), when the wait is not zero;
//   - while the data comes as a stream: the round's wait for it ended sooner than a pause would
//     (at 1,000 msg/s the loop waits ~1 ms for each message, and a pause would only add latency
//     without saving a wake-up);
//   - and when no peer waits for us (the owner says: see NativeClient::peer_waits_on_us).
// Pure logic: fed the rounds' byte counts and waits, no clock or socket.

#include <chrono>
#include <cstddef>

namespace net {

class ReadBatching {
  public:
    using Clock = std::chrono::steady_clock;

    ReadBatching() = default;  // never pauses
    ReadBatching(std::size_t light_bytes, std::chrono::microseconds pause)
        : light_bytes_(light_bytes), pause_(pause) {}

    // A loop round read `bytes` over all its connections after waiting `waited` for them.
    void round_ended(std::size_t bytes, Clock::duration waited);
    // How long to pause before a wait of `timeout`: zero, or the pause.
    std::chrono::microseconds pause_before(std::chrono::microseconds timeout,
                                           bool peer_waits_on_us) const;
    // The pause was taken (or skipped): the next pause needs another light round.
    void paused() { last_light_ = false; }

  private:
    std::size_t light_bytes_{0};
    std::chrono::microseconds pause_{0};
    bool last_light_{false};
    bool streaming_{false};  // the last round's data came within a pause of its wait
};

// The queue of our messages at the broker, from the confirmation round trips: the smoothed round
// trip above the lowest one seen lately. A publisher's pause before reading PUBACKs costs no
// throughput only while the broker has at least that much of our work queued.
class QueueGauge {
  public:
    using Clock = std::chrono::steady_clock;

    void observe(Clock::duration rtt);
    Clock::duration queue_delay() const;

  private:
    static constexpr unsigned kPeriod = 4096;  // samples per minimum period
    Clock::duration smoothed_{0};
    Clock::duration min_now_{Clock::duration::max()};
    Clock::duration min_before_{Clock::duration::max()};
    unsigned samples_{0};
};

}  // namespace net

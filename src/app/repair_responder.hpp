#pragma once
// End-to-end repair, the publisher's side (telemetry/repair.hpp): keeps the last payloads sent
// (--replay-buffer), with their user properties, and turns a consumer's requests for this run into
// a queue of messages to send again, byte for byte. It sends nothing itself; the run publishes what
// next() gives.

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "sim/message_numbering.hpp"
#include "telemetry/replay_buffer.hpp"

namespace app {

class RepairResponder {
  public:
    using Clock = std::chrono::steady_clock;

    // `numbering` turns a request's device and sequence numbers into message numbers. `buffer`
    // 0: repair is off.
    RepairResponder(std::size_t buffer, std::string run_id, sim::MessageNumbering numbering);
    // A device a request may name, by its id, and its index.
    void add_device(std::string id, std::uint64_t index) {
        device_index_.emplace(std::move(id), index);
    }

    bool enabled() const { return replay_.enabled(); }
    void keep(std::uint64_t number, std::string_view payload,
              const telemetry::PropertyEnvelope* properties = nullptr) {
        replay_.keep(number, payload, properties);
    }

    struct Answer {
        std::uint64_t wanted{0};  // messages asked for (at most the buffer's size)
        std::uint64_t held{0};    // of them, still held and queued to be sent again
    };
    // A message on the repair topic, at `now`. Nothing for another run's request, a malformed
    // one, or the consumer's last word (done()).
    std::optional<Answer> on_request(std::string_view payload, Clock::time_point now);

    struct Resend {
        std::uint64_t number;
        std::string_view payload;
        const telemetry::PropertyEnvelope* properties;  // nullptr: none (the envelope is inside)
    };
    // The first queued message still held (those dropped from the buffer since are skipped),
    // until sent() takes it off the queue.
    std::optional<Resend> next();
    void sent() { queue_.pop_front(); }

    // The consumer said it needs nothing more.
    bool done() const { return done_; }
    // After the run: answer on while the consumer is not done and has asked within `linger`
    // (counted from start_linger() at the latest), or while repairs are queued.
    void start_linger(Clock::time_point now) { last_request_ = now; }
    bool lingering(Clock::time_point now, Clock::duration linger) const;

  private:
    telemetry::ReplayBuffer replay_;
    std::size_t buffer_;
    std::string run_id_;
    sim::MessageNumbering numbering_;
    std::unordered_map<std::string, std::uint64_t> device_index_;
    std::deque<std::uint64_t> queue_;  // message numbers to send again
    bool done_{false};
    Clock::time_point last_request_{};
};

}  // namespace app

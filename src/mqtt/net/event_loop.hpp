#pragma once
// A single-threaded epoll loop with timers. One loop carries any number of connections (a
// device fleet), so no connection needs a thread of its own.
//
// Safety: a watcher may unwatch itself or any other descriptor, and a timer may cancel any
// timer, from inside a callback; nothing removed is called again in the same round. Every
// syscall result is checked: a failing epoll_ctl or epoll_wait throws std::system_error.
//
// Batching policy: while the loop is busy, rounds start at most every `min_round_interval`
// (set_min_round_interval), so that on a loaded machine more packets arrive per wake-up and the
// CPU goes to the broker instead of to wake-ups. An idle loop waits for the next event with no
// pause, so low rates gain no latency.

#include <chrono>
#include <cstdint>
#include <functional>
#include <queue>
#include <unordered_map>
#include <vector>

#include "mqtt/net/socket.hpp"

namespace mqtt::net {

class EventLoop {
  public:
    using Clock = std::chrono::steady_clock;

    class Watcher {
      public:
        virtual ~Watcher() = default;
        virtual void on_ready(bool readable, bool writable, bool hangup) = 0;
    };

    using TimerId = std::uint64_t;

    EventLoop();
    EventLoop(const EventLoop&) = delete;  // owns the epoll descriptor and the registrations
    EventLoop& operator=(const EventLoop&) = delete;

    void watch(int fd, Watcher& watcher, bool want_write);
    void update(int fd, bool want_write);
    void unwatch(int fd);

    // Calls `fn` once at `when` (or the first round after). Returns an id for cancel().
    TimerId add_timer(Clock::time_point when, std::function<void()> fn);
    void cancel(TimerId id);

    // One round: waits at most `timeout` (less if a timer is due sooner), dispatches the ready
    // descriptors, then the due timers. Returns the number of descriptors dispatched (0 on
    // timeout or when a signal interrupted the wait).
    int run_once(std::chrono::milliseconds timeout);

    void set_min_round_interval(std::chrono::microseconds interval) { min_round_ = interval; }
    // Scratch space for reads, shared by every watcher of this loop (one runs at a time): a
    // connection keeps only the tail of a partial packet, so an idle one costs a few KB.
    std::vector<char>& read_buffer() { return read_buffer_; }
    std::size_t watched() const { return by_fd_.size(); }
    std::size_t timers() const { return timer_fns_.size(); }

  private:
    // A registration: the epoll event carries (generation << 32 | slot), so an event queued for
    // a slot that was unwatched (and perhaps reused) in the same round is recognised and skipped.
    struct Slot {
        Watcher* watcher{nullptr};
        int fd{-1};
        std::uint32_t generation{0};
    };
    struct Due {
        Clock::time_point when;
        TimerId id;
        bool operator>(const Due& o) const { return when > o.when; }
    };

    void modify(int op, int fd, std::uint64_t key, bool want_write);
    std::chrono::milliseconds until_next_timer(std::chrono::milliseconds limit) const;
    void pause_if_busy(std::chrono::milliseconds timeout);
    void run_due_timers();

    FileDescriptor epoll_;
    std::vector<Slot> slots_;
    std::vector<std::uint32_t> free_slots_;
    std::unordered_map<int, std::uint32_t> by_fd_;
    std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
    std::unordered_map<TimerId, std::function<void()>> timer_fns_;
    TimerId next_timer_{1};
    std::chrono::microseconds min_round_{0};
    std::vector<char> read_buffer_;
    bool last_round_busy_{false};
    Clock::time_point last_round_start_{};
};

}  // namespace mqtt::net

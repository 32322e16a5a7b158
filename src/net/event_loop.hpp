#pragma once
// A single-threaded epoll loop with timers. One loop carries any number of connections (a
// device fleet), so no connection needs a thread of its own.
//
// Safety: a watcher may unwatch itself or any other descriptor, and a timer may cancel any
// timer, from inside a callback; nothing removed is called again in the same round. Every
// syscall result is checked: a failing epoll_ctl or epoll_wait throws std::system_error.
//
// Batching policy (set_batching, net/read_batching.hpp): after a light round of a stream,
// the next wait may start a little later, so that more packets arrive per wake-up; never while
// a peer waits for us (the owner's `peer_waits` says so), never before a zero-timeout wait.

#include <chrono>
#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/read_batching.hpp"
#include "net/socket.hpp"

namespace net {

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
    void unwatch(int fd);  // never throws: called from destructors

    // Calls `fn` once at `when` (or the first round after). Returns an id for cancel().
    TimerId add_timer(Clock::time_point when, std::function<void()> fn);
    void cancel(TimerId id);

    // One round: waits at most `timeout` (less if a timer is due sooner), dispatches the ready
    // descriptors, then the due timers. Returns the number of descriptors dispatched (0 on
    // timeout or when a signal interrupted the wait).
    int run_once(std::chrono::microseconds timeout);

    void set_batching(ReadBatching batching, std::function<bool()> peer_waits) {
        batching_ = batching;
        peer_waits_ = std::move(peer_waits);
    }
    // Watchers report what they read, for the batching policy.
    void note_read(std::size_t bytes) { bytes_this_round_ += bytes; }
    // Scratch space for reads, shared by every watcher of this loop (one runs at a time): a
    // connection keeps only the tail of a partial packet, so an idle one costs a few KB.
    std::vector<char>& read_buffer() { return read_buffer_; }
    // The same for WebSocket connections: the frames as read, and what they carried (a
    // buffer of each per connection cost ~70 KB each in a fleet of 5,000).
    std::vector<char>& frame_buffer() { return frame_buffer_; }
    std::string& unwrap_buffer() { return unwrap_buffer_; }
    // How long this round paused before its wait: what a round trip measured in it includes of
    // our own delay.
    std::chrono::microseconds paused_this_round() const { return paused_; }
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
    std::chrono::microseconds until_next_timer(std::chrono::microseconds limit) const;
    void pause_if_batching(std::chrono::microseconds timeout);
    void run_due_timers();

    FileDescriptor epoll_;
    std::vector<Slot> slots_;
    std::vector<std::uint32_t> free_slots_;
    std::unordered_map<int, std::uint32_t> by_fd_;
    std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
    std::unordered_map<TimerId, std::function<void()>> timer_fns_;
    TimerId next_timer_{1};
    ReadBatching batching_;
    std::function<bool()> peer_waits_;
    std::size_t bytes_this_round_{0};
    std::chrono::microseconds paused_{0};
    std::vector<char> read_buffer_;
    std::vector<char> frame_buffer_;
    std::string unwrap_buffer_;
};

}  // namespace net

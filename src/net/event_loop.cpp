#include "net/event_loop.hpp"

#include <sys/epoll.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <system_error>
#include <thread>

namespace net {
namespace {

[[noreturn]] void throw_errno(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

std::uint64_t key_of(std::uint32_t slot, std::uint32_t generation) {
    return (std::uint64_t{generation} << 32) | slot;
}

}  // namespace

EventLoop::EventLoop() : epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (!epoll_) throw_errno("epoll_create1");
}

void EventLoop::modify(int op, int fd, std::uint64_t key, bool want_write) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (want_write ? EPOLLOUT : 0u);
    ev.data.u64 = key;
    if (::epoll_ctl(epoll_.get(), op, fd, &ev) != 0)
        throw_errno(op == EPOLL_CTL_ADD ? "epoll_ctl(ADD)" : "epoll_ctl(MOD)");
}

void EventLoop::watch(int fd, Watcher& watcher, bool want_write) {
    if (by_fd_.count(fd) != 0) throw std::system_error(EEXIST, std::generic_category(), "watch");
    std::uint32_t slot = 0;
    if (!free_slots_.empty()) {
        slot = free_slots_.back();
        free_slots_.pop_back();
    } else {
        slot = static_cast<std::uint32_t>(slots_.size());
        slots_.emplace_back();
    }
    Slot& s = slots_[slot];
    modify(EPOLL_CTL_ADD, fd, key_of(slot, s.generation), want_write);
    s.watcher = &watcher;
    s.fd = fd;
    by_fd_[fd] = slot;
}

void EventLoop::update(int fd, bool want_write) {
    const auto it = by_fd_.find(fd);
    if (it == by_fd_.end()) return;
    modify(EPOLL_CTL_MOD, fd, key_of(it->second, slots_[it->second].generation), want_write);
}

void EventLoop::unwatch(int fd) {
    const auto it = by_fd_.find(fd);
    if (it == by_fd_.end()) return;
    Slot& s = slots_[it->second];
    // Owners unwatch before closing, so DEL succeeds; had it failed, the descriptor would be out
    // of the set all the same (ENOENT, or EBADF: closing removed it). Not thrown: owners unwatch
    // in destructors and inside c-ares callbacks, which an exception must not cross.
    static_cast<void>(::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr));
    s.watcher = nullptr;
    s.fd = -1;
    ++s.generation;  // events already fetched for this slot no longer match
    free_slots_.push_back(it->second);
    by_fd_.erase(it);
}

EventLoop::TimerId EventLoop::add_timer(Clock::time_point when, std::function<void()> fn) {
    const TimerId id = next_timer_++;
    timer_fns_.emplace(id, std::move(fn));
    due_.push({when, id});
    return id;
}

void EventLoop::cancel(TimerId id) {
    // The heap entry stays and is skipped when it comes due.
    timer_fns_.erase(id);
}

std::chrono::microseconds EventLoop::until_next_timer(std::chrono::microseconds limit) const {
    if (due_.empty()) return limit;
    const auto left = due_.top().when - Clock::now();
    // Round up, so that the wait does not end just before the timer is due.
    const auto us = std::chrono::ceil<std::chrono::microseconds>(left);
    return std::clamp(us, std::chrono::microseconds(0), limit);
}

void EventLoop::pause_if_batching(std::chrono::microseconds timeout) {
    paused_ = std::chrono::microseconds(0);
    if (timeout.count() == 0) return;
    const auto pause = batching_.pause_before(timeout, peer_waits_ && peer_waits_());
    batching_.paused();
    if (pause.count() == 0) return;
    const auto began = Clock::now();
    std::this_thread::sleep_for(pause);
    paused_ = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - began);
}

int EventLoop::run_once(std::chrono::microseconds timeout) {
    // Skip cancelled timers at the top, so they do not shorten the wait.
    while (!due_.empty() && timer_fns_.count(due_.top().id) == 0) due_.pop();
    const auto limit = until_next_timer(timeout);
    pause_if_batching(limit);
    // The pause is part of the wait, never added to it: a paced sender is due at its end.
    const auto wait = std::max(std::chrono::microseconds(0), limit - paused_);
    std::array<epoll_event, 256> events;
    const auto wait_began = Clock::now();
    // epoll_pwait2 (Linux 5.11) waits to the microsecond; epoll_wait only to the millisecond.
    const timespec ts{static_cast<time_t>(wait.count() / 1'000'000),
                      static_cast<long>(wait.count() % 1'000'000) * 1000};
    int n =
        ::epoll_pwait2(epoll_.get(), events.data(), static_cast<int>(events.size()), &ts, nullptr);
    if (n < 0 && errno == ENOSYS)
        n = ::epoll_wait(
            epoll_.get(), events.data(), static_cast<int>(events.size()),
            static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count()));
    const auto waited = Clock::now() - wait_began;
    bytes_this_round_ = 0;
    if (n < 0) {
        if (errno != EINTR) throw_errno("epoll_wait");
        n = 0;  // a signal: the caller checks its stop flag
    }
    for (int i = 0; i < n; ++i) {
        const std::uint64_t key = events[i].data.u64;
        const auto slot = static_cast<std::uint32_t>(key & 0xFFFF'FFFFu);
        const auto generation = static_cast<std::uint32_t>(key >> 32);
        if (slot >= slots_.size()) continue;
        const Slot& s = slots_[slot];
        if (s.watcher == nullptr || s.generation != generation) continue;  // removed this round
        const std::uint32_t e = events[i].events;
        s.watcher->on_ready((e & EPOLLIN) != 0, (e & EPOLLOUT) != 0,
                            (e & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) != 0);
    }
    batching_.round_ended(bytes_this_round_, waited);
    run_due_timers();
    return n;
}

void EventLoop::run_due_timers() {
    const auto now = Clock::now();
    while (!due_.empty() && due_.top().when <= now) {
        const TimerId id = due_.top().id;
        due_.pop();
        const auto it = timer_fns_.find(id);
        if (it == timer_fns_.end()) continue;  // cancelled
        auto fn = std::move(it->second);
        timer_fns_.erase(it);
        fn();  // may add or cancel timers
    }
}

}  // namespace net

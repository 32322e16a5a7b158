// The event loop's safety rules, over socketpairs: watchers removed or replaced during a batch,
// and timers.
#include "net/event_loop.hpp"

#include <sys/socket.h>

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <vector>

#include "socket_pair.hpp"

namespace net {
namespace {

using namespace std::chrono_literals;
using testing_support::socket_pair;

// A watcher that records its calls and can act on another.
struct Probe : EventLoop::Watcher {
    std::function<void()> action;
    int calls{0};
    void on_ready(bool, bool, bool) override {
        ++calls;
        if (action) action();
    }
};

TEST(EventLoop, AWatcherRemovedDuringABatchIsNotCalledInIt) {
    EventLoop loop;
    auto [a_ours, a_theirs] = socket_pair();
    auto [b_ours, b_theirs] = socket_pair();
    Probe a;
    auto b = std::make_unique<Probe>();
    loop.watch(a_ours.get(), a, false);
    loop.watch(b_ours.get(), *b, false);
    // Both readable before the wait, so one epoll_wait returns both.
    ASSERT_EQ(::send(a_theirs.get(), "x", 1, 0), 1);
    ASSERT_EQ(::send(b_theirs.get(), "x", 1, 0), 1);
    bool removed = false;
    // Whichever runs first removes and destroys the other.
    // Descriptors captured by value: clang 14 cannot capture structured bindings.
    a.action = [&, fd = b_ours.get()] {
        if (removed) return;
        removed = true;
        loop.unwatch(fd);
        b.reset();
    };
    b->action = [&, fd = a_ours.get()] {
        if (removed) return;
        removed = true;
        loop.unwatch(fd);
    };
    EXPECT_EQ(loop.run_once(100ms), 2);
    EXPECT_TRUE(removed);
    if (b) {  // b ran first and removed a
        EXPECT_EQ(b->calls, 1);
        EXPECT_EQ(a.calls, 0);
    } else {  // a ran first and destroyed b: calling b now would be a use after free (ASan)
        EXPECT_EQ(a.calls, 1);
    }
}

TEST(EventLoop, ASlotReusedDuringABatchDoesNotReceiveTheOldEvent) {
    EventLoop loop;
    auto [a_ours, a_theirs] = socket_pair();
    auto [b_ours, b_theirs] = socket_pair();
    auto [c_ours, c_theirs] = socket_pair();
    Probe a, b, c;
    loop.watch(a_ours.get(), a, false);
    loop.watch(b_ours.get(), b, false);
    ASSERT_EQ(::send(a_theirs.get(), "x", 1, 0), 1);
    ASSERT_EQ(::send(b_theirs.get(), "x", 1, 0), 1);
    // The first to run swaps the other for a new watcher in the freed slot.
    bool swapped = false;
    auto swap = [&, c_fd = c_ours.get()](int other_fd) {
        if (swapped) return;
        swapped = true;
        loop.unwatch(other_fd);
        loop.watch(c_fd, c, false);
    };
    a.action = [&, fd = b_ours.get()] { swap(fd); };
    b.action = [&, fd = a_ours.get()] { swap(fd); };
    loop.run_once(100ms);
    EXPECT_EQ(a.calls + b.calls, 1);
    EXPECT_EQ(c.calls, 0) << "c is not readable: the old event was not for it";
}

TEST(EventLoop, TimersFireInOrderAndCancelledOnesNever) {
    EventLoop loop;
    std::vector<int> fired;
    const auto now = EventLoop::Clock::now();
    loop.add_timer(now + 20ms, [&] { fired.push_back(2); });
    const auto cancelled = loop.add_timer(now + 10ms, [&] { fired.push_back(99); });
    loop.add_timer(now + 5ms, [&] { fired.push_back(1); });
    loop.cancel(cancelled);
    for (int i = 0; i < 50 && fired.size() < 2; ++i) loop.run_once(100ms);
    EXPECT_EQ(fired, (std::vector<int>{1, 2}));
    EXPECT_EQ(loop.timers(), 0u);
}

TEST(EventLoop, AWaitEndsAtTheNextTimer) {
    EventLoop loop;
    bool fired = false;
    loop.add_timer(EventLoop::Clock::now() + 20ms, [&] { fired = true; });
    loop.run_once(10s);  // returns when the timer is due, not after 10 s
    EXPECT_TRUE(fired);
}

TEST(EventLoop, ATimerMayAddAndCancelTimers) {
    EventLoop loop;
    std::vector<int> fired;
    EventLoop::TimerId later = 0;
    later = loop.add_timer(EventLoop::Clock::now() + 5ms, [&] { fired.push_back(3); });
    loop.add_timer(EventLoop::Clock::now(), [&] {
        fired.push_back(1);
        loop.cancel(later);
        loop.add_timer(EventLoop::Clock::now(), [&] { fired.push_back(2); });
    });
    for (int i = 0; i < 5; ++i) loop.run_once(10ms);
    EXPECT_EQ(fired, (std::vector<int>{1, 2}));
}
}  // namespace
}  // namespace net

// The adaptive window against a simulated broker: a FIFO server with a service rate behind a
// path with a one-way delay, in virtual time (no sockets, no wall clock). The window must
// find the broker's rate with little queueing on a short path, and the bandwidth-delay
// product (or the broker's Receive Maximum) on a long one.

#include "mqtt/adaptive_window.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <random>

namespace mqtt {
namespace {

using Clock = AdaptiveWindow::Clock;
using namespace std::chrono_literals;

struct Outcome {
    double rate;         // confirmations per second over the last simulated second
    double mean_rtt_ms;  // over the same second
    std::size_t window;  // at the end
};

// Keeps the controller's window full for `seconds` of virtual time.
Outcome simulate(AdaptiveWindow& w, double service_rate, Clock::duration one_way, double seconds,
                 Clock::time_point start = Clock::time_point{} + 1s) {
    const auto service = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(1.0 / service_rate));
    std::deque<std::pair<Clock::time_point, Clock::time_point>> in_flight;  // sent, confirmed
    Clock::time_point server_free = start, now = start;
    const auto send = [&](Clock::time_point t) {
        const auto served = std::max(t + one_way, server_free) + service;
        server_free = served;
        in_flight.emplace_back(t, served + one_way);
    };
    const auto end =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    std::size_t last_second = 0;
    double rtt_sum_ms = 0;
    while (now < end) {
        while (in_flight.size() < w.window()) send(now);
        const auto [sent, confirmed] = in_flight.front();
        in_flight.pop_front();
        now = confirmed;
        w.on_confirmed(sent, now);
        if (now >= end - 1s) {
            ++last_second;
            rtt_sum_ms += std::chrono::duration<double, std::milli>(now - sent).count();
        }
    }
    return {static_cast<double>(last_second),
            last_second ? rtt_sum_ms / static_cast<double>(last_second) : 0.0, w.window()};
}

TEST(AdaptiveWindow, OnAShortPathItCarriesTheBrokersRateWithLittleQueueing) {
    AdaptiveWindow w;
    // 50,000 msg/s, 0.1 ms each way: 10 messages fill the path; a window of 1000 would add
    // 20 ms of queueing, the controller's target is 2 ms.
    const Outcome o = simulate(w, 50'000, 100us, 20);
    EXPECT_GE(o.rate, 0.95 * 50'000) << "window " << o.window;
    EXPECT_LT(o.mean_rtt_ms, 4.0) << "window " << o.window;
    EXPECT_LE(o.window, 200u);
}

TEST(AdaptiveWindow, OnALongPathItFindsTheBandwidthDelayProduct) {
    AdaptiveWindow w;
    // 20 ms each way at 50,000 msg/s: 2,000 messages in flight are needed; the broker allows
    // 1,000 (its Receive Maximum), which carries 25,000 msg/s.
    w.limit_to(1000);
    const Outcome o = simulate(w, 50'000, 20ms, 30);
    EXPECT_GE(o.window, 900u);
    EXPECT_GE(o.rate, 0.95 * 25'000);
}

TEST(AdaptiveWindow, WithoutALimitOnALongPathItGrowsToTheBandwidthDelayProduct) {
    AdaptiveWindow w;
    const Outcome o = simulate(w, 20'000, 20ms, 30);  // 800 messages fill the path
    EXPECT_GE(o.rate, 0.95 * 20'000) << "window " << o.window;
    EXPECT_LT(o.mean_rtt_ms, 40.0 * 1.5) << "window " << o.window;
}

TEST(AdaptiveWindow, NeverExceedsTheLimitNorGoesBelowTheMinimum) {
    AdaptiveWindow::Config c;
    c.min = 16;
    AdaptiveWindow w(c);
    w.limit_to(20);
    for (double rate : {1'000.0, 100'000.0}) {
        const Outcome o = simulate(w, rate, 1ms, 5);
        EXPECT_LE(o.window, 20u);
        EXPECT_GE(o.window, 16u);
    }
}

TEST(AdaptiveWindow, ASlowerBrokerLaterShrinksTheWindow) {
    AdaptiveWindow w;
    simulate(w, 40'000, 100us, 10);
    const Outcome o = simulate(w, 5'000, 100us, 20, Clock::time_point{} + 100s);
    EXPECT_GE(o.rate, 0.95 * 5'000) << "window " << o.window;
    EXPECT_LT(o.mean_rtt_ms, 6.0) << "the queue drains: window " << o.window;
}

TEST(AdaptiveWindow, AFasterBrokerLaterIsFoundByProbing) {
    AdaptiveWindow w;
    simulate(w, 10'000, 5ms, 20);  // 100 fill the path
    const Outcome o = simulate(w, 40'000, 5ms, 30, Clock::time_point{} + 100s);  // now 400
    EXPECT_GE(o.rate, 0.9 * 40'000) << "window " << o.window;
}

// An impaired path, in order as TCP delivers it: each message's confirmation is delayed by a
// random extra (jitter: uniform 0..2*jitter; loss: a retransmission after `rto` with
// probability `loss`), and a delayed one holds back those behind it (head-of-line blocking).
struct Impairment {
    double loss{0};
    Clock::duration rto{200ms};
    Clock::duration jitter{0};
};

// Keeps `window()` messages in flight for `seconds` through a broker serving `service_rate`;
// returns the confirmations per second over the whole run.
double impaired_rate(const std::function<std::size_t()>& window,
                     const std::function<void(Clock::time_point, Clock::time_point)>& confirmed,
                     double service_rate, Clock::duration one_way, Impairment impairment,
                     double seconds) {
    std::mt19937 random(7);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    const auto service = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(1.0 / service_rate));
    const Clock::time_point start = Clock::time_point{} + 1s;
    const auto end =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    std::deque<std::pair<Clock::time_point, Clock::time_point>> in_flight;
    Clock::time_point server_free = start, now = start, last_confirmed = start;
    std::uint64_t done = 0;
    while (now < end) {
        while (in_flight.size() < window()) {
            const auto served = std::max(now + one_way, server_free) + service;
            server_free = served;
            auto extra = std::chrono::duration_cast<Clock::duration>(impairment.jitter * 2 *
                                                                     uniform(random));
            if (uniform(random) < impairment.loss) extra += impairment.rto;
            last_confirmed = std::max(last_confirmed, served + one_way + extra);
            in_flight.emplace_back(now, last_confirmed);
        }
        const auto [sent, at] = in_flight.front();
        in_flight.pop_front();
        now = at;
        confirmed(sent, now);
        ++done;
    }
    return static_cast<double>(done) / seconds;
}

double auto_rate(double service_rate, Clock::duration one_way, Impairment impairment) {
    AdaptiveWindow w;
    w.limit_to(1000);
    return impaired_rate([&] { return w.window(); },
                         [&](Clock::time_point s, Clock::time_point n) { w.on_confirmed(s, n); },
                         service_rate, one_way, impairment, 60);
}

double fixed_rate(std::size_t window, double service_rate, Clock::duration one_way,
                  Impairment impairment) {
    return impaired_rate([=] { return window; }, [](Clock::time_point, Clock::time_point) {},
                         service_rate, one_way, impairment, 60);
}

TEST(AdaptiveWindow, ThroughFivePercentLossItKeepsUpWithTheBestFixedWindow) {
    const Impairment loss{0.05, 200ms, 0ms};
    const double best = fixed_rate(1000, 20'000, 1ms, loss);
    EXPECT_GE(auto_rate(20'000, 1ms, loss), 0.8 * best) << "best fixed window: " << best;
}

TEST(AdaptiveWindow, ThroughTwentyMillisecondsOfJitterItKeepsUpWithTheBestFixedWindow) {
    const Impairment jitter{0, 200ms, 20ms};
    const double best = fixed_rate(1000, 20'000, 1ms, jitter);
    EXPECT_GE(auto_rate(20'000, 1ms, jitter), 0.8 * best) << "best fixed window: " << best;
}

TEST(AdaptiveWindow, OnAStockMosquittoItUsesTheWholeReceiveMaximum) {
    // Receive Maximum 20 on a 0.1 ms path to a broker of 80,000 msg/s: 20 in flight carry
    // 20 / 0.2 ms = 100,000 msg/s at most, so the window must not stop below the limit.
    AdaptiveWindow w;
    w.limit_to(20);
    const Outcome o = simulate(w, 80'000, 50us, 5);
    EXPECT_EQ(o.window, 20u);
}

}  // namespace
}  // namespace mqtt

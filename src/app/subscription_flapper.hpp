#pragma once
// --flap-every: subscription churn. Every period each client subscribes to its flap filter,
// and the next period unsubscribes again, over and over, while its data subscriptions stay:
// SUBACK and UNSUBACK times go to the report's connections, and the ledgers show whether the
// data traffic beside the churn lost anything.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "mqtt/client.hpp"

namespace app {

class SubscriptionFlapper {
  public:
    using Clock = std::chrono::steady_clock;

    // No period (0): tick() does nothing.
    explicit SubscriptionFlapper(double every_s) : every_(std::chrono::duration<double>(every_s)) {}

    // `client` must outlive the flapper.
    void add(mqtt::Client& client, std::string filter) {
        entries_.push_back({&client, {std::move(filter)}, false});
    }
    // The first period starts now.
    void start(Clock::time_point now) {
        next_ = now + std::chrono::duration_cast<Clock::duration>(every_);
    }
    // When a period is over, every connected client flips its flap subscription.
    void tick(Clock::time_point now);
    std::uint64_t flips() const { return flips_; }

  private:
    struct Entry {
        mqtt::Client* client;
        std::vector<std::string> filter;
        bool subscribed;
    };
    std::chrono::duration<double> every_;
    Clock::time_point next_{Clock::time_point::max()};
    std::vector<Entry> entries_;
    std::uint64_t flips_{0};
};

inline void SubscriptionFlapper::tick(Clock::time_point now) {
    if (every_.count() <= 0 || now < next_) return;
    next_ = now + std::chrono::duration_cast<Clock::duration>(every_);
    for (Entry& e : entries_) {
        if (!e.client->connected()) continue;  // away (a storm): it flips next time
        try {
            if (e.subscribed)
                e.client->start_unsubscribe(e.filter);
            else
                e.client->start_subscribe(e.filter, mqtt::QoS::AtLeastOnce);
            e.subscribed = !e.subscribed;
            ++flips_;
        } catch (const mqtt::Error&) {
            // The client failed: its owner hears of it through on_failed.
        }
    }
}

}  // namespace app

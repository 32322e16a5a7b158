#pragma once
// mqtt_subscriber --connect-only: the connections themselves are the workload. N native
// clients on one event loop open at --connect-rate, each subscribes to its --topic filters
// ({n}: its number), all are held for --hold seconds with keepalive (with --reconnect-storm,
// all dropped at once without DISCONNECT midway, and back), then end with DISCONNECT. Nothing
// is verified but the connections: the run passes when every one came up, was subscribed and
// stayed (or came back from the storm). Each step's time is in the report's "connections".

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/connection_stats.hpp"
#include "app/console.hpp"
#include "app/subscriber.hpp"
#include "app/subscriber_run.hpp"
#include "app/subscription_flapper.hpp"
#include "mqtt/client.hpp"
#include "report/model.hpp"
#include "telemetry/verdict.hpp"

namespace net {
class EventLoop;
}

namespace app {

class ConnectionHold {
  public:
    using Clock = std::chrono::steady_clock;

    // The loop must outlive the hold.
    ConnectionHold(const SubscriberOptions& options, net::EventLoop& loop, ProgressLine& progress,
                   SubscriberRun::StopRequested stop_requested);

    // Opens, holds and closes every connection, prints the verdict, returns the exit status.
    // Never throws.
    int run();
    const report::SubscriberReport& report() const { return report_; }

  private:
    struct Member {
        std::string label;  // "connection 3 (ID-3)"
        mqtt::ConnectOptions connect;
        std::vector<std::string> filters;
        std::unique_ptr<mqtt::Client> client;
        bool opened{false}, subscribe_due{false}, subscribed{false}, failed{false};
    };
    // The ramp: opens the connections due by `now`; the time the next one is due.
    Clock::time_point open_due(Clock::time_point now);
    void subscribe_due();
    // Every connection is up and subscribed, or failed.
    bool settled() const;
    void hold(Clock::time_point until);
    void storm();
    void close_all();
    // The progress line while connecting, every 1,000 connections.
    void show_progress();
    int judge_and_print(const std::string& end_reason);
    void print_result(const report::Connections& c, const telemetry::Verdict& verdict) const;

    const SubscriberOptions& options_;
    net::EventLoop& loop_;
    ProgressLine& progress_;
    SubscriberRun::StopRequested stop_requested_;
    std::vector<std::unique_ptr<Member>> members_;
    ConnectionStats stats_;
    SubscriptionFlapper flapper_;
    std::size_t opened_{0};
    std::uint64_t shown_{0};
    std::uint64_t down_at_end_{0};  // neither failed nor connected when the hold ended
    Clock::time_point start_;
    report::SubscriberReport report_;
};

}  // namespace app

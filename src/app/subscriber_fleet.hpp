#pragma once
// mqtt_subscriber --connections N: N subscribers on one event loop, each a SubscriberRun over
// its own native client (its own client id, session, subscriptions and ledger), all on the same
// topics. Each is judged on its own ledger, and their reports merge by mqtt_report's rules
// (report/merge.hpp): independent subscribers are a fan-out, verified only when every one of
// them received every message; the members of a share group are joined.

#include <memory>
#include <optional>
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

class SubscriberFleet {
  public:
    // Connection k (1-based) takes the client id ID-k. The loop must outlive the fleet.
    SubscriberFleet(const SubscriberOptions& options, net::EventLoop& loop, ProgressLine& progress,
                    const SubscriberRun::StopRequested& stop_requested);

    // Connects every subscriber, runs the loop until each has ended, prints the verdict and
    // returns the exit status. Never throws.
    int run();
    // After run(): every subscriber's report merged (a consumer each, or one share group).
    const report::SubscriberReport& report() const { return merged_; }

  private:
    struct Member {
        std::string label;  // "subscriber 3 (ID-3)"
        SubscriberOptions options;
        std::unique_ptr<mqtt::Client> client;
        std::unique_ptr<ProgressLine> quiet;  // all but the first report no progress
        std::unique_ptr<SubscriberRun> run;
        bool over{false};
    };
    // Starts every member; the number still running.
    std::size_t start_all();
    void run_loop(std::size_t running);
    // --reconnect-storm: every subscriber's connection dropped at once without DISCONNECT.
    void storm();
    // The fleet's verdict from the merged report and how each member ended.
    int judge_and_print(const std::vector<telemetry::Ending>& endings);

    net::EventLoop& loop_;
    ProgressLine& progress_;
    std::vector<std::unique_ptr<Member>> members_;
    ConnectionStats stats_;
    std::optional<double> storm_after_s_;
    SubscriptionFlapper flapper_;
    report::SubscriberReport merged_;
};

}  // namespace app

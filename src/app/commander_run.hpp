#pragma once
// One run of mqtt_commander over a Client it is given: connect and subscribe to the reply
// topic, send the commands on their schedule (open loop: each stamped with its scheduled time),
// collect the answers into the ledger until every command is answered or has timed out, judge.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "app/commander.hpp"
#include "app/console.hpp"
#include "app/reconnect_log.hpp"
#include "metrics/exposition.hpp"
#include "mqtt/client.hpp"
#include "report/model.hpp"
#include "sim/rate_pacer.hpp"
#include "telemetry/command_ledger.hpp"
#include "telemetry/report.hpp"
#include "telemetry/timeline.hpp"
#include "telemetry/verdict.hpp"

namespace app {

class CommanderRun {
  public:
    using Clock = std::chrono::steady_clock;
    using StopRequested = std::function<bool()>;

    // `targets`: the devices commands go to in turn (command_targets()), at least one.
    CommanderRun(const CommanderOptions& options, CommandTargets targets, mqtt::Client& client,
                 ProgressLine& progress, StopRequested stop_requested);

    // The whole run; prints the verdict line and returns the exit status. Never throws.
    int run();
    const report::CommanderReport& report() const { return report_; }
    std::string timeline_csv() const { return telemetry::timeline_csv(timeline_.rows()); }
    // --metrics-port: the ledger as it stands.
    void write_metrics(metrics::Exposition& out) const;

  private:
    void connect();
    void send_due();
    std::chrono::microseconds until_next_due() const;
    // Command k (0-based): target k mod targets, its seq k / targets + 1; false while the
    // window is full.
    bool send(std::uint64_t k, Clock::time_point due);
    void await_answers();
    void on_message(const mqtt::Message& message);
    void tick();  // a timeline row when one is due, and progress
    void add_timeline_row(Clock::time_point now);
    void show_progress();
    std::vector<std::string> failed_checks(const telemetry::CommandTotals& totals) const;
    int finish(const std::string& end_reason, const std::vector<telemetry::Ending>& endings);

    const CommanderOptions& options_;
    const CommandTargets targets_;
    mqtt::Client& client_;
    ProgressLine& progress_;
    StopRequested stop_requested_;
    const std::string run_id_, reply_topic_;
    telemetry::CommandLedger ledger_;
    sim::RatePacer pacer_;
    Clock::time_point started_;
    std::uint64_t sent_{0}, next_progress_{0}, unreadable_{0};
    std::chrono::system_clock::time_point wall_start_;
    ReconnectLog reconnects_;
    telemetry::Timeline<telemetry::CommanderSecond> timeline_;
    report::CommanderReport report_;
};

}  // namespace app

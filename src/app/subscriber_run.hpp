#pragma once
// One run of the data consumer over a Client it is given (a fake one in unit tests): connect
// and subscribe, handle each message (control messages here, telemetry to the sinks), tick
// once per poll (timeline, end conditions), then decide the verdict.

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/console.hpp"
#include "app/reconnect_log.hpp"
#include "app/run_end.hpp"
#include "app/subscriber.hpp"
#include "app/subscriber_state.hpp"
#include "metrics/exposition.hpp"
#include "mqtt/client.hpp"
#include "report/model.hpp"
#include "telemetry/device_status.hpp"
#include "telemetry/message_sink.hpp"
#include "telemetry/property_envelope.hpp"
#include "telemetry/report.hpp"
#include "telemetry/retained_check.hpp"
#include "telemetry/run_summary.hpp"
#include "telemetry/timeline.hpp"
#include "telemetry/verifier.hpp"

namespace app {

// "N devices of the run publish on topics that no --topic filter matches: not expected".
std::string outside_text(std::uint64_t devices);

class SubscriberRun {
  public:
    using Clock = std::chrono::steady_clock;
    using StopRequested = std::function<bool()>;

    SubscriberRun(const SubscriberOptions& options, mqtt::Client& client, ProgressLine& progress,
                  StopRequested stop_requested);

    // Another consumer of every telemetry message, after the verifier. Must outlive the run.
    void add_sink(telemetry::MessageSink& sink) { sinks_.push_back(&sink); }
    // Keeps the verifier's state in `state` (--state-dir), after loading what an earlier process
    // of this run left there. Must outlive the run. Throws state::StateError.
    void keep_state(SubscriberState& state);

    // The whole run; prints the verdict and returns the exit status. Never throws.
    int run();
    // The same in steps, for runs whose clients share a loop that their owner runs
    // (app/subscriber_fleet.hpp); none throws. start() connects and subscribes (false: it failed,
    // and close() gives the status); after_round() follows each round of the loop (true: the
    // run has ended); close() disconnects, decides and returns the exit status.
    bool start();
    bool after_round(Clock::time_point now);
    int close();
    // The client failed (its on_failed()): the next after_round() ends the run.
    void client_failed(const std::string& error);
    // A member of a fleet of `size`: its own verdict line only when it is not verified, after
    // `label`; the duplicate check's 512 KB of recent readings shared out among the members.
    void member_of_fleet(std::string label, std::size_t size) {
        label_ = std::move(label);
        verifier_.keep_recent((std::size_t{1} << 15) / std::max<std::size_t>(size, 1));
    }

    // Steps, public for tests.
    void handle(const mqtt::Message& message);
    // Timeline and end conditions; the reason to stop, if any.
    std::optional<EndReason> tick(Clock::time_point now);
    // The checks that failed (empty: verified).
    std::vector<std::string> failed_checks() const;

    // Its counters, gauges and end-to-end latency for a /metrics scrape (--metrics-port).
    void write_metrics(metrics::Exposition& out) const;
    // Subscribed and connected: /readyz answers 200 (a readiness probe before the publishers).
    bool ready() const { return subscribed_ && client_.connected(); }

    // The --report document, --csv timeline and the data of the --html page, after run().
    report::SubscriberReport report() const;
    std::string timeline_csv() const { return telemetry::timeline_csv(timeline_.rows()); }
    const telemetry::Verifier& verifier() const { return verifier_; }

  private:
    // The end of a read batch: every sink's batch_end(), then the state journal.
    void end_batch();
    void connect_and_subscribe();
    void receive();
    // Suspension and end conditions after a round of the loop; true: the run has ended.
    bool round_over(Clock::time_point now);
    void handle_control(const mqtt::Message& message);
    // A retained telemetry message: checked (--check-retained, after the run), else set aside.
    void handle_retained(const mqtt::Message& message);
    // The message's reading, with its user properties (an envelope may travel in them); views
    // into the message and properties_, valid until the next message.
    telemetry::DecodedReading decode(const mqtt::Message& message);
    // Follows the devices' online/offline, if the broker lets us (a refusal is not fatal).
    void subscribe_to_statuses();
    void announce_start();  // --announce-start
    std::optional<report::DeviceStatus> device_report() const;
    std::vector<report::SlowDevice> slowest_devices() const;
    // Each publisher shard's latency, for runs of several shards (which may take other paths).
    std::vector<report::ShardLatency> latency_by_shard() const;
    std::vector<report::TransportLatency> latency_by_transport() const;
    // A line per publisher shard, and per transport when the run used several.
    void print_latency_breakdown(std::FILE* out) const;
    // The ledger's counts, as the report gives them.
    void count_into(report::SubscriberReport& r) const;
    // --check-retained, once the run is complete: subscribes again (the first call) and says
    // whether the retained last values are still arriving.
    bool checking_retained(Clock::time_point now);
    // Asks again for what is missing once the summaries are in and the stream went quiet.
    void maybe_request_repair(Clock::time_point now);
    void announce_repair_done();
    int finish(const RunEnd& end);
    void print_verdict(const std::vector<std::string>& failed) const;
    void add_timeline_row(Clock::time_point now);
    bool sharing() const { return !options_.share_group.empty(); }
    void print_share_verdict(std::FILE* out, const std::vector<std::string>& failed) const;
    void report_progress(Clock::time_point now);
    // The publishers' side, from their run progress messages.
    struct SenderTotals {
        std::uint64_t sent{0};
        std::uint64_t confirmed{0};
    };
    SenderTotals sender_totals() const;
    double elapsed_s() const;  // first to last message

    const SubscriberOptions& options_;
    mqtt::Client& client_;
    ProgressLine& progress_;
    StopRequested stop_requested_;
    const Clock::time_point started_;

    telemetry::Verifier verifier_;
    std::optional<telemetry::RetainedCheck> retained_;  // --check-retained, once started
    Clock::time_point retained_until_{};
    std::uint64_t retained_seen_{0};  // before the check: last values from before, set aside
    std::vector<telemetry::MessageSink*> sinks_{&verifier_};
    std::vector<telemetry::KeyValue> properties_;  // of the message being handled
    telemetry::Timeline<telemetry::SubscriberSecond> timeline_;
    ReconnectLog reconnects_;
    // The latest of each publisher, by "run/shard".
    std::map<std::string, telemetry::RunProgress> progress_by_run_;
    // Each shard of a run of several, by (run, shard), from its run summary.
    struct ShardDevices {
        std::uint32_t shards{};
        std::vector<std::string> devices;
    };
    std::map<std::pair<std::string, std::uint32_t>, ShardDevices> shard_devices_;
    // The devices that came each way ("tcp", "ws", ...), as the run summaries say.
    std::map<std::string, std::set<std::string>> transport_devices_;
    std::optional<Clock::time_point> first_message_;
    Clock::time_point last_message_{};
    Clock::time_point ready_at_{};
    bool subscribed_{false};  // the "(ready)" moment has come
    bool start_seen_{false};  // --announce-start: the run's start is retained already
    std::uint64_t next_progress_;
    SubscriberState* state_{nullptr};
    Clock::time_point repair_requested_at_{};
    std::uint64_t repair_requests_{0};
    std::optional<telemetry::DeviceStatusBoard> statuses_;  // --status-topic
    RunEnd end_;
    std::optional<RunEnd> failure_;  // from client_failed()
    bool started_ok_{false};
    Clock::time_point last_round_{};
    std::string label_;  // a fleet member's ("subscriber 3 (id-3)"); empty: alone
    int exit_status_{0};
    bool verified_{false};
    double publisher_behind_ms_{0};  // from the run summaries: the publisher's schedule lag
};

}  // namespace app

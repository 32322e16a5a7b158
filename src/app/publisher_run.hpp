#pragma once
// One run of the sensor simulator over a Client it is given (a fake one in unit tests): connect,
// publish what is due while the window has room, drain the confirmations, send the run summary,
// finish with a verdict. Each step is a member; run() is their sequence.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/command_responder.hpp"
#include "app/console.hpp"
#include "app/fleet_plan.hpp"
#include "app/in_flight_tracker.hpp"
#include "app/publisher.hpp"
#include "app/publisher_state.hpp"
#include "app/reconnect_log.hpp"
#include "app/repair_responder.hpp"
#include "app/run_end.hpp"
#include "metrics/exposition.hpp"
#include "mqtt/adaptive_window.hpp"
#include "mqtt/client.hpp"
#include "report/model.hpp"
#include "sim/churn_plan.hpp"
#include "sim/fleet_schedule.hpp"
#include "sim/rate_pacer.hpp"
#include "sim/sensor_model.hpp"
#include "telemetry/latency_histogram.hpp"
#include "telemetry/payload_encoder.hpp"
#include "telemetry/report.hpp"
#include "telemetry/run_start.hpp"
#include "telemetry/timeline.hpp"

namespace app {

struct PublisherCounters {
    std::uint64_t published{0};
    std::uint64_t confirmed{0};
    std::uint64_t rejected{0};        // acknowledged with a failure reason code (MQTT 5)
    std::uint64_t no_subscribers{0};  // confirmed with 0x10: the broker had no subscriber
    std::uint64_t repaired{0};        // sent again on a consumer's repair request
    std::uint64_t unrepairable{0};    // asked for, but no longer in the replay buffer
    mqtt::ReasonCode first_rejection{mqtt::ReasonCode::Success};
    std::map<std::string, std::uint64_t> rejected_by_topic;  // an ACL refuses by topic
    std::uint64_t churn_dropped{0};   // devices that vanished on purpose (--churn)
    std::uint64_t churn_returned{0};  // and came back
    bool summary_sent{false};
    bool summary_confirmed{false};
};

// How long a paced sender waits for a message due in `until`: rounded up to a 100 µs step,
// at most 100 ms (so that a stop request is seen promptly).
std::chrono::microseconds pacing_wait(std::chrono::steady_clock::duration until);

class PublisherRun {
  public:
    using Clock = std::chrono::steady_clock;
    using StopRequested = std::function<bool()>;

    // `plan`: plan_run(options), the same the client's connections were made from.
    PublisherRun(const PublisherOptions& options, RunPlan plan, mqtt::Client& client,
                 ProgressLine& progress, StopRequested stop_requested);

    // Keeps the run's progress in `state` (--state-dir), resuming where an earlier process of
    // this run left off (the run id must already be the saved one). Must outlive the run.
    // Throws state::StateError.
    void keep_state(PublisherState& state);

    // The whole run; prints the result line and returns the exit status. Never throws.
    int run();
    // The --report document and the --csv timeline, after run().
    report::PublisherReport report() const;
    std::string timeline_csv() const { return telemetry::timeline_csv(timeline_.rows()); }

    // Its counters, gauges and PUBACK latency for a /metrics scrape (--metrics-port).
    void write_metrics(metrics::Exposition& out) const;

    const PublisherCounters& counters() const { return counters_; }
    const std::string& run_id() const { return run_id_; }

  private:
    void connect();
    void publish_all();
    void publish_due();
    // Fleets (--connections other than 1, publisher_fleet.cpp): every device on its own clock;
    // a device whose connection is down or full holds its reading back, the others go on.
    void start_fleet_schedule();
    void publish_due_fleet();
    void drop_churned_devices(Clock::time_point now);
    std::chrono::microseconds fleet_time_to_wait() const;
    struct HeldReading {
        sim::FleetSchedule::Due due;
        std::string payload;
        telemetry::PropertyEnvelope properties;  // with --envelope properties
    };
    // Publishes a reading's payload, with the encoder's user properties when it has them.
    std::optional<mqtt::PublishId> publish_reading(std::string_view topic, std::string_view payload,
                                                   mqtt::QoS qos,
                                                   const telemetry::PropertyEnvelope* properties);
    bool send_reading(const HeldReading& reading);
    report::Churn churn_report() const;
    // Messages the schedule (--rate, --count) wants published by now.
    std::uint64_t due_now() const;
    std::chrono::microseconds time_to_wait() const;
    std::chrono::microseconds telemetry_wait() const;
    std::chrono::microseconds answer_wait() const;  // until the next answer falls due
    // Telemetry messages allowed in flight now: the adaptive window's, or the engine's.
    std::size_t window() const;
    // The engine's window; for QoS 2 where the broker did not state its own, at most
    // kQos2WindowUnstated.
    std::size_t engine_window() const;
    void warn_about_unstated_window();
    void count_no_subscriber(const std::string& topic);
    std::string no_subscriber_text() const;
    bool window_full() const { return client_.in_flight() >= window(); }
    void drain();
    void send_summary();
    // A message for us: a repair request, or a device's command (--commands).
    void handle_message(const mqtt::Message& message);
    // --commands: the devices' subscriptions over one connection (a fleet's connections make
    // their own), and the answers that are due.
    void subscribe_to_commands();
    void linger_for_commands();
    // --wait-for-start: the run's start, then its instant.
    void await_start();
    void answer_commands();
    // End-to-end repair: answer requests until the consumer is done or the linger ends.
    void handle_repair(const mqtt::Message& message);
    void publish_repairs();
    void linger_for_repairs();
    RunEnd verdict() const;
    // Schedule truth (--rate, --interval, fleets): every message's lag behind its due time.
    bool scheduled() const { return schedule_ ? schedule_->paced() : pacer_.paced(); }
    void sent_at(Clock::time_point due, Clock::time_point now);
    // How long the oldest message that is due but not yet sent has waited; 0 when on time.
    Clock::duration lag_now(Clock::time_point now) const;
    bool schedule_breached() const;
    std::string schedule_text() const;
    report::ScheduleLag schedule_report() const;
    // Set when the broker's Receive Maximum holds the window below what the run asked for.
    std::optional<std::size_t> receive_maximum_cap() const;
    // "2 topics: sensors/a/telemetry (5), sensors/b/telemetry (5)", the first few.
    std::string refused_topics() const;
    int finish(const RunEnd& end);

    void on_confirmed(const mqtt::Confirmation& confirmation);
    // Once a second: a timeline row, and the run's progress on the control topic.
    void tick();
    // The waiting progress message, if a slot is free.
    void send_progress();
    void add_timeline_row();
    void maybe_report_progress();
    // A broker that stops confirming shows in the progress line within seconds.
    void watch_for_stall(Clock::time_point now);
    double stalled_s(Clock::time_point now) const;
    void report_progress();
    std::int64_t send_timestamp_us() const;
    // A time on the schedule (steady clock) as microseconds since the epoch.
    std::int64_t scheduled_epoch_us(Clock::time_point due) const;
    double elapsed_s() const { return timeline_.seconds(Clock::now()); }
    // Messages [0, n) are all confirmed (or refused): where a resumed run starts.
    std::uint64_t confirmed_through() const;

    const PublisherOptions& options_;
    mqtt::Client& client_;
    ProgressLine& progress_;
    StopRequested stop_requested_;
    const std::string run_id_;
    const mqtt::QoS qos_;
    const Clock::time_point started_;

    PublisherCounters counters_;
    RunEnd end_;
    int exit_status_{0};
    double elapsed_at_end_{0.0};
    telemetry::LatencyHistogram puback_;             // publish -> PUBACK/PUBCOMP, whole run
    telemetry::LatencyHistogram puback_second_;      // the same, current second of the timeline
    telemetry::LatencyHistogram schedule_lag_;       // sent - due, µs, of every scheduled message
    std::int64_t schedule_lag_second_us_{0};         // the largest of the timeline's current second
    std::uint64_t window_full_polls_{0}, polls_{0};  // how often the window held sending back
    telemetry::Timeline<telemetry::PublisherSecond> timeline_;
    ReconnectLog reconnects_;

    const RunPlan plan_;
    const std::string& topic_of(std::uint64_t device) const { return plan_.devices[device].topic; }
    sim::DeviceFleet fleet_;
    // Per group: --payload-format and --payload-size, or a profile group's own.
    std::vector<telemetry::PayloadEncoder> encoders_;
    telemetry::PayloadEncoder& encoder_for(std::uint64_t device) {
        return encoders_[plan_.devices[device].group];
    }
    std::vector<mqtt::QoS> device_qos_;  // per device (a profile's groups may differ)
    // Some device sends at QoS 2: set once, because window() asks on every publish.
    bool sends_qos2_{false};
    // What each id in flight is: a refusal names its reading's topic, a control message's
    // confirmation is not telemetry's.
    InFlightTracker in_flight_;
    sim::RatePacer pacer_;
    std::optional<sim::FleetSchedule> schedule_;  // fleets only
    std::vector<HeldReading> held_;               // taken, not yet accepted by their connection
    sim::ChurnPlan churn_;
    // When each churned device came (or comes) back: its readings held while it was away count
    // their schedule lag from its return, since its absence is the simulation, not lag.
    std::vector<Clock::time_point> back_at_;
    // The last reconnection after a lost connection: messages due while it was down count their
    // lag from here (the outage is reported under reconnects; the catch-up after it is lag).
    Clock::time_point reconnected_at_{};
    std::chrono::system_clock::time_point wall_start_;  // the pacer's start, on the wall clock
    std::string payload_;
    // The message number payload_ holds: a publish the engine did not take is sent as is later.
    std::uint64_t payload_for_{UINT64_MAX};
    std::uint64_t next_progress_;
    std::uint64_t confirmed_seen_{0};  // at the last check
    Clock::time_point progress_at_;    // when confirmations last moved (or nothing was due)
    Clock::time_point stall_reported_at_{};
    std::optional<std::string> progress_waiting_;  // a progress message without a free slot
    PublisherState* state_{nullptr};               // --state-dir
    std::uint64_t resumed_from_{0};  // messages before it were confirmed by an earlier process
    std::optional<mqtt::AdaptiveWindow> adaptive_;
    RepairResponder repair_;                    // --replay-buffer
    std::optional<CommandResponder> commands_;  // --commands
    std::optional<telemetry::RunStart> start_;  // --wait-for-start: the run's start, once here
};

}  // namespace app

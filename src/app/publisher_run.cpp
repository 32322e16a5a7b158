#include "app/publisher_run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <random>

#include "app/cli_common.hpp"
#include "app/exit_status.hpp"
#include "app/fleet_plan.hpp"
#include "app/signals.hpp"
#include "telemetry/payload.hpp"
#include "telemetry/repair.hpp"
#include "telemetry/run_start.hpp"
#include "telemetry/run_summary.hpp"

namespace app {
namespace {

// How long the run summary may take to be confirmed after the drain (at most --drain-timeout).
constexpr auto kSummaryTimeout = std::chrono::milliseconds(5000);
// Longest single wait in the loops, so a stop request is seen promptly.
constexpr auto kMaxWait = std::chrono::milliseconds(100);
// A paced sender wakes in steps of this: a message goes out at most 100 µs after it is due
// (rounding up to whole milliseconds, as before, added up to 1 ms of the generator's own lag to
// every latency figure), and at 80,000 msg/s a wake-up still sends some eight messages.
constexpr auto kPacingStep = std::chrono::microseconds(100);
// The progress line says the generator is behind once the oldest due message waited this long.
constexpr double kShowLagMs = 50.0;
// No confirmation for this long with messages in flight is a stall worth a progress line.
constexpr auto kStallAfter = std::chrono::seconds(2);

// One encoder per group of the plan: the group's own payload, or the flags'.
std::vector<telemetry::PayloadEncoder> payload_encoders(const RunPlan& plan,
                                                        const PublisherOptions& options) {
    std::vector<telemetry::PayloadEncoder> encoders;
    for (const DeviceGroup& g : plan.groups)
        encoders.emplace_back(g.payload.value_or(options.payload), options.seed);
    return encoders;
}

std::int64_t to_epoch_us(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::chrono::microseconds pacing_wait(std::chrono::steady_clock::duration until) {
    if (until <= std::chrono::steady_clock::duration::zero()) return std::chrono::microseconds(0);
    const auto steps = (until + kPacingStep - std::chrono::nanoseconds(1)) / kPacingStep;
    return std::min<std::chrono::microseconds>(steps * kPacingStep, kMaxWait);
}

PublisherRun::PublisherRun(const PublisherOptions& options, RunPlan plan, mqtt::Client& client,
                           ProgressLine& progress, StopRequested stop_requested)
    : options_(options),
      client_(client),
      progress_(progress),
      stop_requested_(std::move(stop_requested)),
      run_id_(options.run_id.empty() ? random_run_id() : options.run_id),
      qos_(static_cast<mqtt::QoS>(options.qos)),
      started_(Clock::now()),
      timeline_(started_),
      reconnects_(progress, started_, !options.connect.clean_session),
      plan_(std::move(plan)),
      fleet_(make_device_fleet(plan_, options.seed, run_id_)),
      encoders_(payload_encoders(plan_, options)),
      pacer_(options.rate, started_),
      next_progress_(options.output.progress_every),
      progress_at_(started_),
      repair_(options.replay_buffer, run_id_, plan_.numbering) {
    if (options.window_auto) {
        mqtt::AdaptiveWindow::Config config;
        config.max = options.window_max;
        adaptive_.emplace(config);
    }
    for (const DeviceSpec& d : plan_.devices) {
        repair_.add_device(d.id, device_qos_.size());
        device_qos_.push_back(static_cast<mqtt::QoS>(plan_.groups[d.group].qos));
        sends_qos2_ = sends_qos2_ || device_qos_.back() == mqtt::QoS::ExactlyOnce;
    }
    client_.on_confirmed([this](const mqtt::Confirmation& c) { on_confirmed(c); });
    client_.on_reconnected([this](const mqtt::Reconnection& r) {
        // A churned device's return is the simulation working, not a fault to report.
        if (r.deliberate) {
            ++counters_.churn_returned;
        } else {
            reconnects_.record(r);
            reconnected_at_ = Clock::now();
        }
    });
    if (options.commands)
        commands_.emplace(sim::CommandBehaviour{
            std::chrono::microseconds(static_cast<std::int64_t>(options.command_service_ms * 1000)),
            options.command_failure_rate, options.command_dedupe, options.seed});
    client_.on_message([this](const mqtt::Message& m) { handle_message(m); });
}

void PublisherRun::handle_message(const mqtt::Message& m) {
    if (options_.wait_for_start_s > 0 && m.topic == telemetry::run_start_topic(run_id_)) {
        std::string error;
        if (auto start = telemetry::decode_run_start(m.payload, error);
            start && start->run == run_id_)
            start_ = start;
        else
            progress_.warn(fmt::format("the start on {} is unusable: {}", m.topic,
                                       start ? "it names run " + start->run : error));
        return;
    }
    if (commands_ && m.topic != options_.repair_topic + "/" + run_id_)
        return commands_->on_command(m, Clock::now());
    handle_repair(m);
}

void PublisherRun::subscribe_to_commands() {
    if (!commands_) return;
    // A fleet's connections subscribe to their own devices' topics; one connection to all of
    // them, up to 1,000 filters per SUBSCRIBE (10,000 devices are a few SUBACKs).
    constexpr std::size_t kPerSubscribe = 1000;
    std::vector<std::string> filters;
    for (std::uint64_t d = 0; d < plan_.devices.size() && !options_.fleet(); ++d) {
        filters.push_back(command_topic_of(options_, plan_, d));
        if (filters.size() == kPerSubscribe || d + 1 == plan_.devices.size())
            client_.subscribe(std::exchange(filters, {}), mqtt::QoS::AtLeastOnce);
    }
    // A fleet's connections subscribe as they come up: the devices take commands once every
    // SUBACK is in, and only then is it said (a commander may start on that line).
    const auto until = Clock::now() + options_.connect.connect_timeout;
    while (!client_.subscriptions_acknowledged() && Clock::now() < until) client_.poll(kMaxWait);
    if (!client_.subscriptions_acknowledged())
        progress_.warn(
            "not every device's command subscription was acknowledged within "
            "--connect-timeout: commands sent to them now are lost");
    progress_.info(fmt::format("commands: each of {} devices takes its commands on {}",
                               plan_.devices.size(), options_.command_topic));
}

void PublisherRun::answer_commands() {
    if (commands_)
        commands_->send_due(client_, Clock::now(),
                            [this](mqtt::PublishId id) { in_flight_.control(id); });
}

void PublisherRun::keep_state(PublisherState& state) {
    state_ = &state;
    in_flight_ = InFlightTracker(/*resumable=*/true);
    if (!state.resuming()) return state.begin(run_id_);
    resumed_from_ = counters_.published = counters_.confirmed = state.confirmed_through();
    fleet_.skip(resumed_from_);
    next_progress_ = resumed_from_ + options_.output.progress_every;
    progress_.info(
        fmt::format("resuming run {} after message {}: everything before it was "
                    "confirmed; what followed is sent again",
                    run_id_, resumed_from_));
}

std::size_t PublisherRun::window() const {
    if (!adaptive_) return client_.window();
    // The engine's window (the broker's Receive Maximum) carries telemetry; only while a
    // progress message waits is a slot kept for it. A slot kept for good cost 8% of the rate
    // at a stock Mosquitto's 20 (62,362 against 68,155 msg/s with all 20).
    const std::size_t engine = engine_window();
    const std::size_t room = progress_waiting_ ? PublisherOptions::control_room(engine) : 0;
    return std::min(adaptive_->window(), engine >= 16 ? engine - room : engine);
}

std::size_t PublisherRun::engine_window() const {
    const std::size_t engine = client_.window();
    if (!sends_qos2_ || client_.broker_states_window()) return engine;
    return std::min(engine, PublisherOptions::kQos2WindowUnstated);
}

// A fixed window is the user's choice; say what it risks where the broker stated no limit.
void PublisherRun::warn_about_unstated_window() {
    if (adaptive_ || !sends_qos2_ || client_.broker_states_window() ||
        client_.window() <= PublisherOptions::kQos2WindowUnstated)
        return;
    progress_.warn(fmt::format(
        "warning: --window {} at QoS 2 over MQTT 3.1.1, which cannot tell the broker's in-flight "
        "limit: Mosquitto 2.0.11 confirms and then drops QoS 2 messages beyond its "
        "max_inflight_messages (default {}); --window auto stays within it",
        client_.window(), PublisherOptions::kQos2WindowUnstated));
}

std::uint64_t PublisherRun::confirmed_through() const {
    return in_flight_.confirmed_through(counters_.published);
}

int PublisherRun::run() {
    if (auto end = guarded(EndReason::BrokerError, [this] { connect(); })) return finish(*end);
    if (auto end = guarded(EndReason::ConnectionLost, [this] {
            publish_all();
            drain();
            send_summary();
            linger_for_repairs();
            linger_for_commands();
        }))
        return finish(*end);
    client_.disconnect();
    if (options_.output.progress_every != 0) report_progress();
    if (churn_.planned() > 0)
        progress_.info(fmt::format("churn: {} devices dropped without DISCONNECT, {} came back",
                                   counters_.churn_dropped, counters_.churn_returned));
    return finish(verdict());
}

void PublisherRun::connect() {
    const auto start = Clock::now();
    client_.connect(options_.connect);
    const double took_s = std::chrono::duration<double>(Clock::now() - start).count();
    progress_.info(fmt::format(
        "connected to {}:{} ({}) in {:.2f} s, run {}, {} messages from {} devices at QoS {}",
        options_.connect.host, options_.connect.port, client_.protocol_description(), took_s,
        run_id_, options_.count, options_.devices, options_.qos));
    warn_about_unstated_window();
    if (repair_.enabled())
        client_.subscribe({options_.repair_topic + "/" + run_id_}, mqtt::QoS::AtLeastOnce);
    subscribe_to_commands();
    await_start();
    // The schedule starts now, not before the connect.
    pacer_ = sim::RatePacer(options_.rate, Clock::now());
    wall_start_ = std::chrono::system_clock::now();
    if (options_.fleet()) start_fleet_schedule();
}

void PublisherRun::publish_all() {
    while (counters_.published < options_.count && !stop_requested_()) {
        publish_due();
        ++polls_;
        if (window_full()) ++window_full_polls_;
        client_.poll(time_to_wait());
        answer_commands();
        tick();
        maybe_report_progress();
    }
}

void PublisherRun::handle_repair(const mqtt::Message& m) {
    const auto answer = repair_.on_request(m.payload, Clock::now());
    if (!answer) return;
    counters_.unrepairable += answer->wanted - answer->held;
    progress_.info(
        fmt::format("repair request: sending {} messages again{}", answer->held,
                    answer->held < answer->wanted
                        ? fmt::format(" ({} no longer held)", answer->wanted - answer->held)
                        : std::string()));
}

void PublisherRun::publish_repairs() {
    while (client_.connected() && !window_full()) {
        const auto resend = repair_.next();
        if (!resend) return;
        const auto id = publish_reading(topic_of(plan_.numbering.device_of(resend->number)),
                                        resend->payload, qos_, resend->properties);
        if (!id) return;  // try again after a poll
        in_flight_.repair(*id);
        ++counters_.repaired;
        repair_.sent();
    }
}

void PublisherRun::await_start() {
    if (options_.wait_for_start_s <= 0) return;
    const std::string topic = telemetry::run_start_topic(run_id_);
    client_.subscribe({topic}, mqtt::QoS::AtLeastOnce);
    progress_.info(fmt::format("waiting up to {:g} s for the start of run {} on {}",
                               options_.wait_for_start_s, run_id_, topic));
    const auto until =
        Clock::now() +
        std::chrono::milliseconds(static_cast<std::int64_t>(options_.wait_for_start_s * 1000));
    while (!start_ && Clock::now() < until && !stop_requested_()) client_.poll(kMaxWait);
    if (stop_requested_()) return;
    if (!start_)
        throw RunEndError(EndReason::NoStart,
                          fmt::format("no start for run {} on {} within --wait-for-start {:g} s "
                                      "(is a consumer with --announce-start up?)",
                                      run_id_, topic, options_.wait_for_start_s));
    if (start_->shards != options_.shards)
        throw RunEndError(EndReason::StartMismatch,
                          fmt::format("the start of run {} is for {} shards, this is shard {}/{}",
                                      run_id_, start_->shards, options_.shard, options_.shards));
    // Every shard begins at the announced instant (a replacement shard, later: at once).
    const auto wait = std::chrono::microseconds(start_->start_epoch_us -
                                                epoch_us(std::chrono::system_clock::now()));
    progress_.info(fmt::format("run {} of {} shards begins in {:.3f} s", run_id_, start_->shards,
                               std::max(0.0, std::chrono::duration<double>(wait).count())));
    const auto begin = Clock::now() + wait;
    while (Clock::now() < begin && !stop_requested_())
        client_.poll(pacing_wait(begin - Clock::now()));
}

void PublisherRun::linger_for_commands() {
    if (!commands_) return;
    // Devices take commands for --command-linger after their telemetry; the answers due by
    // then leave within --drain-timeout.
    const auto linger =
        std::chrono::milliseconds(static_cast<std::int64_t>(options_.command_linger_s * 1000));
    const auto drain_timeout =
        std::chrono::milliseconds(static_cast<std::int64_t>(options_.drain_timeout_s * 1000));
    const auto until = Clock::now() + linger;
    if (linger.count() > 0)
        progress_.info(fmt::format("taking commands for {:g} s more (--command-linger)",
                                   options_.command_linger_s));
    while (!stop_requested_() && (Clock::now() < until || commands_->answering()) &&
           Clock::now() < until + drain_timeout) {
        client_.poll(answer_wait());
        answer_commands();
        tick();
    }
    drain();
}

void PublisherRun::linger_for_repairs() {
    if (!repair_.enabled()) return;
    const auto linger =
        std::chrono::milliseconds(static_cast<std::int64_t>(options_.repair_linger_s * 1000));
    repair_.start_linger(Clock::now());
    while (!stop_requested_() && repair_.lingering(Clock::now(), linger)) {
        publish_repairs();
        client_.poll(kMaxWait);
        tick();
    }
    drain();
}

std::uint64_t PublisherRun::due_now() const {
    // The pacer counts from this process's start; unpaced, everything is due (no overflow).
    const std::uint64_t paced = pacer_.due_by(Clock::now());
    return std::min(options_.count, paced > options_.count - resumed_from_ ? options_.count
                                                                           : resumed_from_ + paced);
}

void PublisherRun::publish_due() {
    if (schedule_) return publish_due_fleet();
    publish_repairs();
    const std::uint64_t due = due_now();
    const auto now = Clock::now();
    while (counters_.published < due && client_.connected() && !window_full()) {
        const std::uint64_t device = plan_.numbering.device_of(counters_.published);
        if (payload_for_ != counters_.published) {  // not yet encoded (or taken) for this number
            encoder_for(device).encode(fleet_.next(send_timestamp_us()), payload_);
            payload_for_ = counters_.published;
        }
        const auto id =
            publish_reading(topic_of(device), payload_, qos_, encoder_for(device).properties());
        if (!id) return;  // try again after a poll
        in_flight_.reading(*id, static_cast<std::uint32_t>(device), counters_.published);
        if (repair_.enabled())
            repair_.keep(counters_.published, payload_, encoder_for(device).properties());
        if (pacer_.paced()) sent_at(pacer_.due_time(counters_.published - resumed_from_), now);
        ++counters_.published;
    }
}

std::optional<mqtt::PublishId> PublisherRun::publish_reading(
    std::string_view topic, std::string_view payload, mqtt::QoS qos,
    const telemetry::PropertyEnvelope* properties) {
    if (properties == nullptr)
        return options_.retain ? client_.publish_retained(topic, payload, qos)
                               : client_.publish(topic, payload, qos);
    const auto pairs = properties->pairs();
    std::array<mqtt::UserProperty, telemetry::PropertyEnvelope::kCount> user;
    for (std::size_t i = 0; i < pairs.size(); ++i) user[i] = {pairs[i].key, pairs[i].value};
    return client_.publish_with_properties(topic, payload, qos, user);
}

std::int64_t PublisherRun::send_timestamp_us() const {
    // With --rate, stamp the scheduled send time, so that a stall shows as latency instead of
    // hiding in a lower rate (coordinated omission).
    if (!pacer_.paced()) return to_epoch_us(std::chrono::system_clock::now());
    return scheduled_epoch_us(pacer_.due_time(counters_.published - resumed_from_));
}

std::int64_t PublisherRun::scheduled_epoch_us(Clock::time_point due) const {
    const auto offset = due - pacer_.due_time(0);
    return to_epoch_us(wall_start_ +
                       std::chrono::duration_cast<std::chrono::system_clock::duration>(offset));
}

std::chrono::microseconds PublisherRun::time_to_wait() const {
    return std::min(telemetry_wait(), answer_wait());
}

std::chrono::microseconds PublisherRun::answer_wait() const {
    if (!commands_) return kMaxWait;  // the reference run's loop: no clock read
    const auto now = Clock::now();
    const auto answer = commands_->next_due_after(now);
    return answer ? pacing_wait(*answer - now) : std::chrono::microseconds(kMaxWait);
}

std::chrono::microseconds PublisherRun::telemetry_wait() const {
    if (schedule_) return fleet_time_to_wait();
    if (window_full() || !client_.connected()) return kMaxWait;
    if (counters_.published < options_.count && pacer_.paced()) {
        const auto until = pacer_.due_time(counters_.published - resumed_from_) - Clock::now();
        return pacing_wait(until);
    }
    return std::chrono::microseconds(0);
}

void PublisherRun::drain() {
    // Await outstanding confirmations, bounded so that a silent broker cannot hang us.
    const auto deadline =
        Clock::now() +
        std::chrono::milliseconds(static_cast<std::int64_t>(options_.drain_timeout_s * 1000));
    if (stop_requested_() && client_.in_flight() > 0)
        progress_.info(
            fmt::format("interrupted: waiting up to {:g} s for {} confirmations "
                        "(Ctrl-C again to stop now)",
                        options_.drain_timeout_s, client_.in_flight()));
    while (client_.in_flight() > 0 && Clock::now() < deadline && !stop_now_requested()) {
        client_.poll(kMaxWait);
        answer_commands();
        tick();
    }
}

void PublisherRun::send_summary() {
    // The run summary tells the consumer exactly what to expect.
    telemetry::RunSummary summary{
        run_id_,           options_.qos, counters_.published, counters_.confirmed,
        stop_requested_(), {},           options_.shard,      options_.shards};
    const auto& devices = fleet_.devices();
    for (std::uint32_t i = 0; i < devices.size(); ++i)
        if (devices[i].last_seq > 0)
            summary.devices.push_back({devices[i].id, devices[i].last_seq, devices[i].last_seq,
                                       transport_of(options_, plan_, i), topic_of(i)});
    if (schedule_breached())
        summary.behind_schedule_ms = static_cast<double>(schedule_lag_.max()) / 1000.0;
    const auto id = client_.publish(options_.control_topic, telemetry::encode_run_summary(summary),
                                    mqtt::QoS::AtLeastOnce);
    counters_.summary_sent = id.has_value();
    if (!id) return;
    in_flight_.summary(*id);
    const auto deadline =
        Clock::now() +
        std::min(kSummaryTimeout, std::chrono::milliseconds(
                                      static_cast<std::int64_t>(options_.drain_timeout_s * 1000)));
    while (!counters_.summary_confirmed && in_flight_.in_flight(*id) && Clock::now() < deadline &&
           !stop_now_requested())
        client_.poll(kMaxWait);
}

RunEnd PublisherRun::verdict() const {
    const auto& c = counters_;
    if (stop_requested_()) return {EndReason::Interrupted, {}};
    if (c.rejected > 0)
        return {EndReason::Rejected,
                fmt::format(
                    "the broker refused {} of {} messages (first reason code 0x{:02x}: {}) on {}",
                    c.rejected, c.published, mqtt::code_of(c.first_rejection),
                    mqtt::reason_text(c.first_rejection), refused_topics())};
    if (options_.require_subscribers && c.no_subscribers > 0)
        return {EndReason::NoSubscribers,
                fmt::format("the broker had no subscriber for {} of {} messages (reason 0x10, "
                            "--require-subscribers)",
                            c.no_subscribers, c.confirmed)};
    if (c.confirmed < c.published)
        return {EndReason::Unconfirmed,
                fmt::format("{} of {} messages were not confirmed within {} s",
                            c.published - c.confirmed, c.published, options_.drain_timeout_s)};
    // Without its summary no consumer can verify the run [issue 29]: it failed like any
    // unconfirmed message.
    if (!c.summary_confirmed)
        return {EndReason::Unconfirmed,
                fmt::format("the run summary on {} was {}: no consumer can verify the run",
                            options_.control_topic,
                            c.summary_sent ? "not confirmed by the broker" : "never sent")};
    if (schedule_breached())
        return {EndReason::BehindSchedule,
                fmt::format("the publisher fell behind its schedule, so the run's latency "
                            "figures include its own lag: {}",
                            schedule_text())};
    return {EndReason::Complete, {}};
}

void PublisherRun::sent_at(Clock::time_point due, Clock::time_point now) {
    due = std::max(due, reconnected_at_);
    const auto us = std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::microseconds>(now - due).count());
    schedule_lag_.record(us);
    schedule_lag_second_us_ = std::max(schedule_lag_second_us_, us);
}

PublisherRun::Clock::duration PublisherRun::lag_now(Clock::time_point now) const {
    if (!scheduled() || counters_.published >= options_.count) return Clock::duration::zero();
    Clock::time_point oldest = now;
    if (schedule_) {
        if (!held_.empty()) oldest = held_.front().due.at;
        if (const auto next = schedule_->next()) oldest = std::min(oldest, next->at);
    } else {
        oldest = pacer_.due_time(counters_.published - resumed_from_);
    }
    if (client_.connected()) oldest = std::max(oldest, reconnected_at_);
    return std::max(Clock::duration::zero(), now - oldest);
}

bool PublisherRun::schedule_breached() const {
    return scheduled() && options_.max_schedule_lag_ms > 0 &&
           static_cast<double>(schedule_lag_.max()) > options_.max_schedule_lag_ms * 1000.0;
}

std::optional<std::size_t> PublisherRun::receive_maximum_cap() const {
    // The engine's window is below what was asked for: the broker's Receive Maximum lowered it.
    const std::size_t engine = client_.window();
    if (options_.fleet() || engine >= options_.connect.max_inflight) return std::nullopt;
    return engine;
}

std::string PublisherRun::schedule_text() const {
    const double secs = elapsed_at_end_ > 0 ? elapsed_at_end_ : elapsed_s();
    const double achieved =
        secs > 0 ? static_cast<double>(counters_.published - resumed_from_) / secs : 0.0;
    std::string text = fmt::format(
        "messages went out up to {:.0f} ms after they were due (p99 {:.0f} ms, "
        "--max-schedule-lag-ms {:g}); {:.0f} msg/s sent of {:.0f} asked for",
        static_cast<double>(schedule_lag_.max()) / 1000.0,
        static_cast<double>(schedule_lag_.percentile(0.99)) / 1000.0, options_.max_schedule_lag_ms,
        achieved, options_.rate);
    const bool window_bound = polls_ > 0 && window_full_polls_ * 2 > polls_;
    const auto cap = receive_maximum_cap();
    if (cap && window_bound) {
        text += fmt::format(
            "; the window was full most of the time, held at {} by the broker's Receive Maximum: "
            "spread the devices over more connections (--connections N)",
            *cap);
    } else if (window_bound && engine_window() < client_.window()) {
        text += fmt::format(
            "; the window was full most of the time, held at {} because over MQTT 3.1.1 the "
            "broker states no QoS 2 in-flight limit (--window N if it takes more)",
            engine_window());
    } else if (window_bound) {
        text += "; the window was full most of the time: the broker confirmed too slowly";
    }
    return text;
}

report::ScheduleLag PublisherRun::schedule_report() const {
    const double secs = elapsed_at_end_;
    report::ScheduleLag lag;
    lag.paced = scheduled();
    lag.requested_rate = options_.rate;
    lag.achieved_rate =
        secs > 0 ? static_cast<double>(counters_.published - resumed_from_) / secs : 0.0;
    lag.max_ms = static_cast<double>(schedule_lag_.max()) / 1000.0;
    lag.p99_ms = static_cast<double>(schedule_lag_.percentile(0.99)) / 1000.0;
    lag.limit_ms = options_.max_schedule_lag_ms;
    lag.breached = schedule_breached();
    return lag;
}

std::string PublisherRun::refused_topics() const {
    const auto& by_topic = counters_.rejected_by_topic;
    std::string text =
        fmt::format("{} topic{}: ", by_topic.size(), by_topic.size() == 1 ? "" : "s");
    std::size_t listed = 0;
    for (const auto& [topic, n] : by_topic) {
        if (listed++ == 3) return text + ", ...";
        text += fmt::format("{}{} ({})", listed > 1 ? ", " : "", topic, n);
    }
    return text;
}

int PublisherRun::finish(const RunEnd& end) {
    end_ = end;
    if (state_ != nullptr) {
        // Over unless interrupted or cut short: then the next start resumes it.
        const bool over = end.reason == EndReason::Complete || end.reason == EndReason::Rejected ||
                          end.reason == EndReason::BehindSchedule;
        if (auto failed =
                guarded(EndReason::LocalError, [&] { state_->close(confirmed_through(), over); }))
            end_ = *failed;
    }
    exit_status_ = exit_status_for(end_.reason);
    progress_.finish();  // the status line ends before the error and result lines
    if (!end_.error.empty()) print_error(kPublisherProgram, end_.error);
    const double secs = elapsed_at_end_ = elapsed_s();
    std::printf("%s: run %s: published %llu, confirmed %llu (QoS %d) in %.2f s, %.0f msg/s%s%s\n",
                kPublisherProgram, run_id_.c_str(),
                static_cast<unsigned long long>(counters_.published),
                static_cast<unsigned long long>(counters_.confirmed), options_.qos, secs,
                secs > 0 ? static_cast<double>(counters_.confirmed - resumed_from_) / secs : 0.0,
                no_subscriber_text().c_str(),
                end_.reason == EndReason::Interrupted ? " (interrupted)" : "");
    std::fflush(stdout);
    if (timeline_.tail_due(Clock::now())) add_timeline_row();
    return exit_status_;
}

void PublisherRun::on_confirmed(const mqtt::Confirmation& c) {
    const auto entry = in_flight_.confirm(c.id);
    if (!entry) return;  // not ours in flight: a repeated acknowledgement
    if (entry->kind == InFlightTracker::Kind::Summary) counters_.summary_confirmed = c.accepted();
    // A repair is counted when sent again; a control message is not telemetry.
    if (entry->kind != InFlightTracker::Kind::Reading) return;
    const std::uint32_t device = entry->device;
    if (!c.accepted()) {
        // MQTT 5 brokers say why they refuse a message (0x87 not authorised, 0x97 quota
        // exceeded): such a message is acknowledged but not delivered.
        if (counters_.rejected++ == 0) counters_.first_rejection = c.reason;
        ++counters_.rejected_by_topic[topic_of(device)];
        return;
    }
    ++counters_.confirmed;
    if (c.reason == mqtt::ReasonCode::NoMatchingSubscribers) count_no_subscriber(topic_of(device));
    if (qos_ == mqtt::QoS::AtMostOnce) return;
    if (adaptive_) adaptive_->on_confirmed(c.published_at, Clock::now());
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - c.published_at)
            .count();
    puback_.record(us);
    puback_second_.record(us);
}

// For the result line: whether the broker said nobody received what it confirmed.
std::string PublisherRun::no_subscriber_text() const {
    const auto& c = counters_;
    if (c.no_subscribers == 0) return "";
    if (c.no_subscribers == c.confirmed)
        return "; the broker had no subscriber for any of them (reason 0x10)";
    return fmt::format("; {} had no subscriber at the broker (reason 0x10)", c.no_subscribers);
}

// 0x10 is a success code [MQTT-3.4.2.1]: the message is confirmed, yet nobody receives it.
void PublisherRun::count_no_subscriber(const std::string& topic) {
    if (counters_.no_subscribers++ != 0) return;
    // Not under --quiet: the result line says it too.
    progress_.info(fmt::format(
        "warning: the broker has no subscriber for {} (reason 0x10): nothing receives these "
        "messages; start the consumer first{}",
        topic, options_.require_subscribers ? "" : ", or give --require-subscribers to fail"));
}

void PublisherRun::tick() {
    const auto now = Clock::now();
    if (state_ != nullptr) state_->record(confirmed_through());
    watch_for_stall(now);
    if (timeline_.due(now)) {
        add_timeline_row();
        // The run's progress on the control topic, so that consumers can show the backlog
        // between the two sides. It waits for a free slot; a newer one replaces it.
        progress_waiting_ = telemetry::encode_run_progress(
            {run_id_, counters_.published, counters_.confirmed, options_.shard, options_.shards});
    }
    send_progress();
}

void PublisherRun::send_progress() {
    if (!progress_waiting_) return;
    if (auto id =
            client_.publish(options_.control_topic, *progress_waiting_, mqtt::QoS::AtLeastOnce)) {
        in_flight_.control(*id);
        progress_waiting_.reset();
    }
}

void PublisherRun::add_timeline_row() {
    telemetry::PublisherSecond row;
    row.published = counters_.published;
    row.confirmed = counters_.confirmed;
    row.in_flight = client_.in_flight();
    row.window = window();
    row.puback_p50_us = puback_second_.percentile(0.50);
    row.puback_p99_us = puback_second_.percentile(0.99);
    const auto now = Clock::now();
    row.schedule_lag_us = std::max<std::int64_t>(
        schedule_lag_second_us_,
        std::chrono::duration_cast<std::chrono::microseconds>(lag_now(now)).count());
    timeline_.add(now, counters_.confirmed, row);
    puback_second_.reset();
    schedule_lag_second_us_ = 0;
}

void PublisherRun::watch_for_stall(Clock::time_point now) {
    if (counters_.confirmed != confirmed_seen_ || client_.in_flight() == 0) {
        confirmed_seen_ = counters_.confirmed;
        progress_at_ = now;
        return;
    }
    if (options_.output.progress_every == 0 || now - progress_at_ < kStallAfter ||
        now - stall_reported_at_ < kStallAfter)
        return;
    stall_reported_at_ = now;
    report_progress();
}

double PublisherRun::stalled_s(Clock::time_point now) const {
    if (client_.in_flight() == 0 || now - progress_at_ < kStallAfter) return 0.0;
    return std::chrono::duration<double>(now - progress_at_).count();
}

void PublisherRun::maybe_report_progress() {
    const std::uint64_t every = options_.output.progress_every;
    if (every == 0 || counters_.confirmed < next_progress_) return;
    report_progress();
    next_progress_ = (counters_.confirmed / every + 1) * every;
}

void PublisherRun::report_progress() {
    const auto& c = counters_;
    const auto now = Clock::now();
    const double rate = timeline_.current_rate(now, c.confirmed);
    const double stalled = stalled_s(now);
    std::string tail = rate > 0 && c.confirmed < options_.count
                           ? fmt::format(" | ETA {:.0f} s",
                                         static_cast<double>(options_.count - c.confirmed) / rate)
                           : "";
    if (stalled > 0)
        tail = fmt::format(" | STALLED: no confirmation for {:.0f} s{}", stalled,
                           client_.connected() ? "" : " (reconnecting)");
    const double lag_ms = std::chrono::duration<double, std::milli>(lag_now(now)).count();
    if (lag_ms >= kShowLagMs)
        tail +=
            fmt::format(" | BEHIND SCHEDULE by {:.0f} ms{}", lag_ms,
                        lag_ms > options_.max_schedule_lag_ms && options_.max_schedule_lag_ms > 0
                            ? " (over --max-schedule-lag-ms)"
                            : "");
    if (c.no_subscribers > 0) tail += fmt::format(" | no subscriber {}", c.no_subscribers);
    if (const auto cap = receive_maximum_cap(); cap && window_full())
        tail += fmt::format(
            " | window held at {} by the broker's Receive Maximum (--connections N)", *cap);
    // After the window shrank, more can be in flight than it allows until they are confirmed.
    progress_.update(fmt::format(
        "sent {} confirmed {} in flight {} (window {}) | {:.0f} msg/s | {} p99 {:.2f} ms{}",
        c.published, c.confirmed, client_.in_flight(), window(), rate,
        qos_ == mqtt::QoS::ExactlyOnce ? "PUBCOMP" : "PUBACK",
        static_cast<double>(puback_.percentile(0.99)) / 1000.0, tail));
}

report::PublisherReport PublisherRun::report() const {
    const auto& c = counters_;
    report::PublisherReport r;
    r.run = run_id_;
    r.qos = options_.qos;
    r.window =
        options_.window_auto ? report::Json("auto") : report::Json(options_.connect.max_inflight);
    r.final_window = window();
    r.devices = options_.devices;
    r.requested = options_.count;
    r.published = c.published;
    r.confirmed = c.confirmed;
    r.rejected = c.rejected;
    r.no_subscribers = c.no_subscribers;
    r.rejected_by_topic = {c.rejected_by_topic.begin(), c.rejected_by_topic.end()};
    r.repaired = c.repaired;
    r.unrepairable = c.unrepairable;
    r.unconfirmed = c.published - c.confirmed - c.rejected;
    r.summary_sent = c.summary_sent;
    r.summary_confirmed = c.summary_confirmed;
    r.elapsed_s = elapsed_at_end_;
    r.msgs_per_sec =
        r.elapsed_s > 0 ? static_cast<double>(c.confirmed - resumed_from_) / r.elapsed_s : 0.0;
    r.resumed_from = resumed_from_;
    r.end_reason = end_reason_name(end_.reason);
    r.error = end_.error;
    r.exit_status = exit_status_;
    if (options_.shards > 1)
        r.shard = {static_cast<int>(options_.shard), static_cast<int>(options_.shards)};
    r.puback_latency_us = report::summarize(puback_);
    r.latency_state = puback_.state();  // for mqtt_report to merge shards exactly
    r.started_epoch_s = timeline_.started_epoch_s();
    r.host = host_name();
    r.command = options_.output.command;
    r.timeline = telemetry::to_json(timeline_.rows());
    r.reconnects = reconnects_.rows();
    r.churn = churn_report();
    r.schedule_lag = schedule_report();
    r.schedule_lag_state = schedule_lag_.state();  // for mqtt_report's merge
    if (const auto cap = receive_maximum_cap()) r.receive_maximum_cap = *cap;
    if (commands_) {
        const CommandResponder::Counts k = commands_->counts();
        r.commands = report::DeviceCommands{k.received,   k.executed,     k.executed_again,
                                            k.recognised, k.answers_sent, k.unreadable};
    }
    return r;
}

}  // namespace app

namespace app {

void PublisherRun::write_metrics(metrics::Exposition& out) const {
    out.gauge("mqtt_publisher_info", "The run this publisher simulates (value 1)", 1,
              {{"run", run_id_}, {"version", MQTT_TELEMETRY_VERSION}});
    out.counter("mqtt_publisher_published_total", "Telemetry messages handed to the broker",
                counters_.published);
    out.counter("mqtt_publisher_confirmed_total",
                "Telemetry messages the broker confirmed (PUBACK/PUBCOMP; QoS 0: written)",
                counters_.confirmed);
    out.counter("mqtt_publisher_no_subscribers_total",
                "Telemetry messages confirmed with reason 0x10: the broker had no subscriber",
                counters_.no_subscribers);
    out.counter("mqtt_publisher_rejected_total",
                "Telemetry messages the broker refused with a reason code (MQTT 5)",
                counters_.rejected);
    out.counter("mqtt_publisher_repaired_total",
                "Messages sent again because a consumer asked for them", counters_.repaired);
    out.counter("mqtt_publisher_reconnects_total", "Lost connections that came back",
                reconnects_.count());
    out.gauge("mqtt_publisher_in_flight", "Messages published but not yet confirmed",
              static_cast<double>(client_.in_flight()));
    out.gauge("mqtt_publisher_window", "Messages allowed in flight at once now",
              static_cast<double>(window()));
    const std::uint64_t due = due_now();
    out.gauge("mqtt_publisher_backlog", "Messages due by the schedule but not yet published",
              static_cast<double>(due > counters_.published ? due - counters_.published : 0));
    out.gauge("mqtt_publisher_schedule_lag_seconds",
              "How long the oldest message due by the schedule has waited to be sent",
              std::chrono::duration<double>(lag_now(Clock::now())).count());
    out.histogram("mqtt_publisher_send_lag_seconds",
                  "How late each scheduled message went out after it was due", schedule_lag_);
    out.gauge("mqtt_publisher_target", "Telemetry messages this run publishes (--count)",
              static_cast<double>(options_.count));
    out.gauge("mqtt_publisher_connected", "1 while connected to the broker",
              client_.connected() ? 1 : 0);
    out.histogram("mqtt_publisher_puback_latency_seconds",
                  "From publish to the broker's confirmation", puback_);
}

}  // namespace app

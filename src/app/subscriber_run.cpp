#include "app/subscriber_run.hpp"

#include "telemetry/run_start.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <unordered_set>

#include "app/cli_common.hpp"
#include "app/exit_status.hpp"
#include "mqtt/protocol/topic_filter.hpp"
#include "telemetry/payload.hpp"
#include "telemetry/payload_encoder.hpp"
#include "telemetry/verdict.hpp"

namespace app {
namespace {

// What the filters match, as the verifier asks it once per device of each run summary: filters
// without wildcards by lookup (--subscriptions-per-connection makes thousands), the rest by the
// matching rules.
telemetry::DeliveryLedger::TopicScope scope_of(const std::vector<std::string>& filters) {
    std::unordered_set<std::string> exact;
    std::vector<std::string> wildcards;
    for (const std::string& f : filters)
        if (f.find_first_of("+#") == std::string::npos)
            exact.insert(f);
        else
            wildcards.push_back(f);
    return [exact = std::move(exact), wildcards = std::move(wildcards)](std::string_view topic) {
        return exact.contains(std::string(topic)) ||
               std::any_of(wildcards.begin(), wildcards.end(), [topic](const std::string& f) {
                   return mqtt::protocol::topic_matches(f, topic);
               });
    };
}

constexpr auto kPollInterval = std::chrono::milliseconds(100);
// --announce-start: how long to look for a start already retained, and the grid of start times.
constexpr auto kStartLookup = std::chrono::seconds(1);
constexpr auto kStartGrid = std::chrono::microseconds(5'000'000);
// --check-retained: how long the retained messages may take after subscribing again.
constexpr auto kRetainedWait = std::chrono::seconds(5);
// A loop round longer than the poll interval by this much means the process was suspended.
constexpr auto kSuspendedGap = std::chrono::milliseconds(900);
// Repair: ask once nothing arrived for this long (late messages are not missing), and again
// after kRepairEvery while something still is.
constexpr auto kRepairQuiet = std::chrono::milliseconds(500);
constexpr auto kRepairEvery = std::chrono::seconds(2);
// A share-group member cannot know which messages are its own: once every run summary is in, it
// ends after this long without a message (or --idle-timeout, if shorter).
constexpr auto kShareQuiet = std::chrono::seconds(2);

std::int64_t now_epoch_us() {
    return epoch_us(std::chrono::system_clock::now());
}

// The filters for a line: the first few, and how many in all (a subscription-heavy load has
// thousands).
std::string join(const std::vector<std::string>& items) {
    constexpr std::size_t kShown = 3;
    std::string joined;
    for (std::size_t i = 0; i < std::min(items.size(), kShown); ++i)
        joined += (joined.empty() ? "" : ", ") + items[i];
    if (items.size() > kShown) joined += fmt::format(", ... ({} filters)", items.size());
    return joined;
}

}  // namespace

std::string outside_text(std::uint64_t devices) {
    return fmt::format(
        "{} device{} of the run publish{} on topics that no --topic filter matches: not expected",
        devices, devices == 1 ? "" : "s", devices == 1 ? "es" : "");
}

namespace {

// Devices listed by name in the report (offline, slowest).
constexpr std::size_t kListedDevices = 20;

}  // namespace

SubscriberRun::SubscriberRun(const SubscriberOptions& options, mqtt::Client& client,
                             ProgressLine& progress, StopRequested stop_requested)
    : options_(options),
      client_(client),
      progress_(progress),
      stop_requested_(std::move(stop_requested)),
      started_(Clock::now()),
      timeline_(started_),
      reconnects_(progress, started_, !options.connect.clean_session),
      ready_at_(started_),
      next_progress_(options.output.progress_every) {
    client_.on_message([this](const mqtt::Message& m) { handle(m); });
    client_.on_reconnected([this](const mqtt::Reconnection& r) { reconnects_.record(r); });
    client_.on_batch_end([this] { end_batch(); });
    if (!options.status_topic.empty()) statuses_.emplace(options.status_topic);
    // Only what the subscriptions can deliver is expected of them.
    if (!options.topics.empty()) verifier_.scope_to(scope_of(options.topics));
}

void SubscriberRun::keep_state(SubscriberState& state) {
    state_ = &state;
    if (state.resuming()) {
        const std::uint64_t replayed = state.restore(verifier_);
        const telemetry::LedgerTotals t = verifier_.ledger().totals();
        progress_.info(
            fmt::format("resuming from {} records in the state directory: received {}, "
                        "unique {}, {} run summaries",
                        replayed, t.received, t.unique, verifier_.summaries().size()));
    }
    verifier_.log_to(state);
}

void SubscriberRun::end_batch() {
    // Durable before the batch's PUBACKs leave (the engine writes them after this returns): a
    // crash never falls between the two. The store first, then the ledger's journal; either
    // order is safe, as an unacknowledged batch comes again and the store keeps it once.
    for (telemetry::MessageSink* sink : sinks_) sink->batch_end();
    if (state_ != nullptr) state_->commit(verifier_);
}

int SubscriberRun::run() {
    if (!start()) return close();
    if (auto end = guarded(EndReason::ConnectionLost, [this] { receive(); })) end_ = *end;
    return close();
}

bool SubscriberRun::start() {
    if (auto end = guarded(EndReason::BrokerError, [this] { connect_and_subscribe(); })) {
        end_ = *end;
        return false;
    }
    started_ok_ = true;
    last_round_ = Clock::now();
    return true;
}

void SubscriberRun::client_failed(const std::string& error) {
    if (!failure_) failure_ = RunEnd{EndReason::ConnectionLost, error};
}

bool SubscriberRun::after_round(Clock::time_point now) {
    bool over = false;
    if (auto end = guarded(EndReason::ConnectionLost, [&] { over = round_over(now); })) {
        end_ = *end;
        return true;
    }
    return over;
}

int SubscriberRun::close() {
    if (!started_ok_) return finish(end_);
    if (end_.reason == EndReason::Complete && options_.repair) announce_repair_done();
    // A run that is not over, or not verified, keeps its persistent broker session for the
    // next process with the same --id: what is published or still queued meanwhile waits
    // there, instead of being discarded by Session Expiry 0 [issue 29]. A generated id is
    // never used again, so its session ends.
    const bool over = end_.reason == EndReason::Complete || end_.reason == EndReason::Count;
    const bool resumable = !options_.connect.clean_session && options_.client_id_given;
    const bool keep = state_ != nullptr ? !over : resumable && !(over && failed_checks().empty());
    client_.disconnect(keep ? mqtt::Client::SessionAfter::Keep : mqtt::Client::SessionAfter::End);
    // After a local failure (a journal or store write) the state stays as a crash leaves it:
    // the journal holds every acknowledged batch, and the first error is the one reported.
    if (state_ != nullptr && end_.reason != EndReason::LocalError) {
        if (auto failed = guarded(EndReason::LocalError, [&] { state_->close(verifier_, over); }))
            end_ = *failed;
    }
    return finish(end_);
}

void SubscriberRun::connect_and_subscribe() {
    client_.connect(options_.connect);
    std::vector<std::string> filters = telemetry_filters(options_);
    // One SUBSCRIBE when the QoS is the same; the control topic needs QoS 1 (no summary lost).
    if (options_.qos == 1) {
        filters.push_back(options_.control_topic);
    } else {
        client_.subscribe({options_.control_topic}, mqtt::QoS::AtLeastOnce);
    }
    client_.subscribe(filters, static_cast<mqtt::QoS>(options_.qos));
    subscribe_to_statuses();
    announce_start();
    ready_at_ = Clock::now();
    subscribed_ = true;
    progress_.info(fmt::format("subscribed to {} and {} on {}:{} ({}) (ready)",
                               join(telemetry_filters(options_)), options_.control_topic,
                               options_.connect.host, options_.connect.port,
                               client_.protocol_description()));
}

void SubscriberRun::announce_start() {
    if (options_.announce_shards == 0) return;
    const std::string topic = telemetry::run_start_topic(options_.start_run);
    // A start already retained (another consumer's, or ours before a restart) stands.
    client_.subscribe({topic}, mqtt::QoS::AtLeastOnce);
    const auto look_until = Clock::now() + kStartLookup;
    while (!start_seen_ && Clock::now() < look_until) client_.poll(kPollInterval);
    if (start_seen_) {
        progress_.info(fmt::format("the start of run {} is announced already", options_.start_run));
        return;
    }
    const telemetry::RunStart start{
        options_.start_run, options_.announce_shards,
        telemetry::start_on_grid(now_epoch_us(),
                                 static_cast<std::int64_t>(options_.start_delay_s * 1e6),
                                 kStartGrid.count())};
    std::optional<mqtt::PublishId> id;
    const auto until = Clock::now() + options_.connect.connect_timeout;
    while (!(id = client_.publish_retained(topic, telemetry::encode_run_start(start),
                                           mqtt::QoS::AtLeastOnce)) &&
           Clock::now() < until)
        client_.poll(kPollInterval);
    while (client_.in_flight() > 0 && Clock::now() < until) client_.poll(kPollInterval);
    if (!id || client_.in_flight() > 0)
        throw mqtt::Error(mqtt::ErrorKind::Protocol,
                          "the broker did not confirm the run's start on " + topic);
    progress_.info(fmt::format("announced the start of run {} for {} shards on {}",
                               options_.start_run, options_.announce_shards, topic));
}

void SubscriberRun::subscribe_to_statuses() {
    if (!statuses_) return;
    try {
        client_.subscribe({statuses_->filter()}, mqtt::QoS::AtLeastOnce);
    } catch (const mqtt::Error& e) {
        if (e.kind() != mqtt::ErrorKind::NotAuthorised) throw;
        progress_.info(fmt::format("not following device status: {}", e.what()));
        statuses_.reset();
    }
}

void SubscriberRun::receive() {
    do {
        // Poll before deciding: a process that was suspended (SIGSTOP, a sleeping laptop) has
        // messages waiting in its socket, and must not call that idle.
        client_.poll(kPollInterval);
    } while (!round_over(Clock::now()));
}

bool SubscriberRun::round_over(Clock::time_point now) {
    if (failure_) {
        end_ = *failure_;
        return true;
    }
    // A round far longer than the poll interval is this process stopped, not the broker
    // quiet: the idle clock starts again (after SIGCONT the poll may return EINTR with
    // nothing read yet) [issue 29].
    if (now - last_round_ > kPollInterval + kSuspendedGap) last_message_ = ready_at_ = now;
    last_round_ = now;
    if (const auto reason = tick(now)) {
        if (*reason == EndReason::Complete && options_.check_retained && checking_retained(now))
            return false;
        end_ = {*reason, {}};
        return true;
    }
    return false;
}

bool SubscriberRun::checking_retained(Clock::time_point now) {
    if (!retained_) {
        retained_.emplace(verifier_.ledger().last_readings());
        // A SUBSCRIBE again replaces the subscription and brings the retained messages
        // [MQTT-3.8.4-3]; they are told apart from live ones by their retain flag.
        client_.start_subscribe(telemetry_filters(options_), static_cast<mqtt::QoS>(options_.qos));
        retained_until_ = now + kRetainedWait;
        progress_.info("run complete: subscribed again to check the retained last values");
        return true;
    }
    return !retained_->all_arrived() && now < retained_until_;
}

void SubscriberRun::handle(const mqtt::Message& m) {
    const auto now = Clock::now();
    if (m.topic.rfind(telemetry::kRunStartTopics, 0) == 0) {  // a start barrier's, never a reading
        start_seen_ = start_seen_ || m.topic == telemetry::run_start_topic(options_.start_run);
        return;
    }
    last_message_ = now;
    if (m.topic == options_.control_topic) return handle_control(m);
    if (statuses_)
        if (const auto device = statuses_->device_in(m.topic)) {
            statuses_->apply(*device, m.payload);
            return;
        }
    // A retained message comes because we subscribed, never from the live stream (its flag is
    // cleared there [MQTT-3.3.1-9]): a last value kept from before, not a delivery.
    if (m.retain) return handle_retained(m);
    if (!first_message_) first_message_ = now;
    const telemetry::DecodedReading decoded = decode(m);
    const telemetry::Delivery delivery{m.topic, m.payload, now, now_epoch_us(), decoded};
    for (telemetry::MessageSink* sink : sinks_) sink->accept(delivery);
    const std::uint64_t every = options_.output.progress_every;
    if (every != 0 && verifier_.ledger().received() >= next_progress_) {
        next_progress_ += every;
        report_progress(now);
    }
}

void SubscriberRun::handle_retained(const mqtt::Message& m) {
    if (!retained_) {
        if (retained_seen_++ == 0)
            progress_.info(
                fmt::format("retained messages on {} are last values the broker kept "
                            "from before: not counted as deliveries",
                            m.topic));
        return;
    }
    retained_->record(m.topic, decode(m));
}

telemetry::DecodedReading SubscriberRun::decode(const mqtt::Message& m) {
    properties_.clear();
    for (const mqtt::UserProperty& p : m.user_properties) properties_.push_back({p.key, p.value});
    return telemetry::decode_payload(m.payload, properties_);
}

void SubscriberRun::handle_control(const mqtt::Message& m) {
    if (auto p = telemetry::decode_run_progress(m.payload)) {
        // Each shard of a run reports its own share: keep them apart.
        progress_by_run_[p->run + "/" + std::to_string(p->shard)] = *p;
        return;
    }
    const auto decoded = telemetry::decode_run_summary(m.payload);
    if (!decoded.summary) return verifier_.record_malformed(m.topic, decoded.error);
    const telemetry::RunSummary& s = *decoded.summary;
    verifier_.expect(s, m.payload);
    progress_.info(fmt::format(
        "run summary of run {}{}: {} published, {} confirmed{}", s.run,
        s.shards > 1 ? fmt::format(" (shard {} of {})", s.shard, s.shards) : std::string(),
        s.published, s.confirmed, s.interrupted ? " (publisher interrupted)" : ""));
    publisher_behind_ms_ = std::max(publisher_behind_ms_, s.behind_schedule_ms);
    for (const telemetry::DeviceSummary& d : s.devices)
        if (!d.transport.empty()) transport_devices_[d.transport].insert(d.device);
    if (s.shards < 2) return;
    ShardDevices& shard = shard_devices_[{s.run, s.shard}];
    shard.shards = s.shards;
    shard.devices.clear();
    for (const telemetry::DeviceSummary& d : s.devices) shard.devices.push_back(d.device);
}

std::optional<EndReason> SubscriberRun::tick(Clock::time_point now) {
    if (timeline_.due(now)) add_timeline_row(now);
    if (options_.repair) maybe_request_repair(now);
    if (stop_requested_()) return EndReason::Interrupted;
    const telemetry::DeliveryLedger& ledger = verifier_.ledger();
    if (options_.count && ledger.unique() >= *options_.count) return EndReason::Count;
    if (sharing() && ledger.summarised() &&
        now - last_message_ >=
            std::min<std::chrono::duration<double>>(
                kShareQuiet, std::chrono::duration<double>(options_.idle_timeout_s)))
        return EndReason::ShareDone;
    // With --count, the count decides: more runs may follow the first one's summary.
    if (!options_.count && !verifier_.summaries().empty() && ledger.complete())
        return EndReason::Complete;
    // Idle since the last message (or the summary), or since we became ready; time without a
    // broker (reconnecting) is an outage, not idleness.
    if (!client_.connected()) last_message_ = ready_at_ = now;
    const bool heard = first_message_ || !verifier_.summaries().empty();
    const auto last_activity = heard ? std::max(ready_at_, last_message_) : ready_at_;
    if (now - last_activity >= std::chrono::duration<double>(options_.idle_timeout_s))
        return EndReason::IdleTimeout;
    return std::nullopt;
}

void SubscriberRun::maybe_request_repair(Clock::time_point now) {
    if (verifier_.summaries().empty() || !client_.connected() ||
        now - last_message_ < kRepairQuiet || now - repair_requested_at_ < kRepairEvery)
        return;
    std::map<std::string, telemetry::RepairMessage> by_run;
    std::uint64_t messages = 0;
    for (const auto& gap : verifier_.ledger().gaps(telemetry::kMaxRepairRanges)) {
        telemetry::RepairMessage& m = by_run[gap.run];
        m.run = gap.run;
        m.ranges.push_back({gap.device, gap.range.first, gap.range.last});
        messages += gap.range.last - gap.range.first + 1;
    }
    if (by_run.empty()) return;
    repair_requested_at_ = now;
    for (const auto& [run, request] : by_run) {
        if (!client_.publish(options_.repair_topic + "/" + run, telemetry::encode_repair(request),
                             mqtt::QoS::AtLeastOnce))
            return;  // the window is full: next time
        for (const auto& range : request.ranges) verifier_.note_requested(run, range);
    }
    ++repair_requests_;
    progress_.info(fmt::format("asked again for {} missing messages in {} runs (repair request {})",
                               messages, by_run.size(), repair_requests_));
}

void SubscriberRun::announce_repair_done() {
    // Publishers waiting for repair requests may stop now.
    try {
        for (const std::string& run : verifier_.summaries())
            client_.publish(options_.repair_topic + "/" + run,
                            telemetry::encode_repair({run, true, {}}), mqtt::QoS::AtLeastOnce);
    } catch (const mqtt::Error&) {
        // Best effort: the publisher's linger ends it anyway.
    }
}

std::vector<std::string> SubscriberRun::failed_checks() const {
    telemetry::LedgerTotals t = verifier_.totals(options_.count);
    if (sharing()) t.missing = 0;  // the other members have them: the merge decides
    std::vector<std::string> failed =
        telemetry::failed_checks(t, verifier_.latency(), options_.thresholds);
    for (const telemetry::MessageSink* sink : sinks_)
        for (std::string& problem : sink->problems()) failed.push_back(std::move(problem));
    if (retained_)
        for (std::string& problem : retained_->failed_checks())
            failed.push_back(std::move(problem));
    return failed;
}

int SubscriberRun::finish(const RunEnd& end) {
    end_ = end;
    if (!end.error.empty())
        print_error(kSubscriberProgram, label_.empty() ? end.error : label_ + ": " + end.error);
    progress_.finish();
    if (timeline_.tail_due(Clock::now())) add_timeline_row(Clock::now());
    const std::vector<std::string> failed = failed_checks();
    const telemetry::Verdict verdict =
        telemetry::judge(failed, {{"the subscriber", exit_status_for(end.reason),
                                   std::string(end_reason_name(end.reason)), true}});
    exit_status_ = verdict.exit_status;
    verified_ = verdict.verified();
    print_verdict(failed);
    return exit_status_;
}

void SubscriberRun::print_verdict(const std::vector<std::string>& failed) const {
    const telemetry::LedgerTotals t = verifier_.totals(options_.count);
    const double secs = elapsed_s();
    const auto& latency = verifier_.latency();
    // With --print, stdout carries the readings only.
    std::FILE* out = options_.print ? stderr : stdout;
    if (!label_.empty() && verified_)
        return;  // a fleet's complete member: the fleet's line says it
    const std::string who_text = label_.empty() ? std::string(kSubscriberProgram)
                                                : fmt::format("{}: {}", kSubscriberProgram, label_);
    const char* who = who_text.c_str();
    if (sharing()) return print_share_verdict(out, failed);
    std::fprintf(
        out,
        "%s: %s: received %llu, unique %llu of %llu expected, missing %llu, duplicates %llu, "
        "out of order %llu, malformed %llu, corrupt %llu in %.2f s, %.0f msg/s, latency p50 "
        "%.2f ms p99 %.2f ms max %.2f ms (%s)\n",
        who, verified_ ? "VERIFIED" : "NOT VERIFIED", static_cast<unsigned long long>(t.received),
        static_cast<unsigned long long>(t.unique), static_cast<unsigned long long>(t.expected),
        static_cast<unsigned long long>(t.missing), static_cast<unsigned long long>(t.duplicates),
        static_cast<unsigned long long>(t.out_of_order),
        static_cast<unsigned long long>(t.malformed), static_cast<unsigned long long>(t.corrupt),
        secs, secs > 0 ? static_cast<double>(t.unique) / secs : 0.0,
        static_cast<double>(latency.percentile(0.5)) / 1000.0,
        static_cast<double>(latency.percentile(0.99)) / 1000.0,
        static_cast<double>(latency.max()) / 1000.0,
        std::string(end_reason_name(end_.reason)).c_str());
    print_latency_breakdown(out);
    if (retained_) {
        const telemetry::RetainedTotals r = retained_->totals();
        std::fprintf(out, "%s: retained last values: %llu of %llu devices current\n", who,
                     static_cast<unsigned long long>(r.current),
                     static_cast<unsigned long long>(r.devices));
    }
    if (t.devices_outside > 0)
        std::fprintf(out, "%s: %s\n", who, outside_text(t.devices_outside).c_str());
    if (publisher_behind_ms_ > 0)
        std::fprintf(out,
                     "%s: the publisher fell behind its schedule by up to %.0f ms: these latency "
                     "figures include its own lag, not only the broker's\n",
                     who, publisher_behind_ms_);
    if (verifier_.recovered() > 0)
        std::fprintf(
            out, "%s: recovered by repair %llu (lost on the way, sent again by the publisher)\n",
            who, static_cast<unsigned long long>(verifier_.recovered()));
    for (const std::string& f : failed) std::fprintf(out, "%s: failed: %s\n", who, f.c_str());
    for (const std::string& c : verifier_.ledger().contradiction_examples())
        std::fprintf(out, "%s: contradiction: %s\n", who, c.c_str());
    for (const auto& g : verifier_.ledger().gaps(options_.max_gaps))
        std::fprintf(out, "%s: missing %s/%s seq %llu-%llu\n", who, g.run.c_str(), g.device.c_str(),
                     static_cast<unsigned long long>(g.range.first),
                     static_cast<unsigned long long>(g.range.last));
    std::fflush(out);
}

void SubscriberRun::print_share_verdict(std::FILE* out,
                                        const std::vector<std::string>& failed) const {
    const telemetry::LedgerTotals t = verifier_.totals(options_.count);
    const double secs = elapsed_s();
    std::fprintf(
        out,
        "%s: SHARE %s: member of share group %s: received %llu, unique %llu, duplicates "
        "%llu, out of order %llu, malformed %llu, corrupt %llu in %.2f s, %.0f msg/s, "
        "latency p99 %.2f ms (%s); the run's verdict: mqtt_report with every member's "
        "--report\n",
        kSubscriberProgram, verified_ ? "VERIFIED" : "NOT VERIFIED", options_.share_group.c_str(),
        static_cast<unsigned long long>(t.received), static_cast<unsigned long long>(t.unique),
        static_cast<unsigned long long>(t.duplicates),
        static_cast<unsigned long long>(t.out_of_order),
        static_cast<unsigned long long>(t.malformed), static_cast<unsigned long long>(t.corrupt),
        secs, secs > 0 ? static_cast<double>(t.unique) / secs : 0.0,
        static_cast<double>(verifier_.latency().percentile(0.99)) / 1000.0,
        std::string(end_reason_name(end_.reason)).c_str());
    print_latency_breakdown(out);
    for (const std::string& f : failed)
        std::fprintf(out, "%s: failed: %s\n", kSubscriberProgram, f.c_str());
    std::fflush(out);
}

void SubscriberRun::add_timeline_row(Clock::time_point now) {
    const telemetry::LedgerTotals t = verifier_.ledger().totals();
    const telemetry::LatencyHistogram second = verifier_.take_second_latency();
    telemetry::SubscriberSecond row;
    row.received = t.received;
    row.unique = t.unique;
    row.missing = t.missing;
    row.duplicates = t.duplicates;
    row.corrupt = t.corrupt;
    row.p50_us = second.percentile(0.50);
    row.p99_us = second.percentile(0.99);
    timeline_.add(now, t.unique, row);
}

void SubscriberRun::report_progress(Clock::time_point now) {
    const telemetry::LedgerTotals t = verifier_.ledger().totals();
    const double rate = timeline_.current_rate(now, t.unique);
    // The publishers' side, from their run progress messages: sent, confirmed, and the backlog
    // of confirmed messages not yet received here.
    std::string sender;
    if (!progress_by_run_.empty()) {
        const SenderTotals sent = sender_totals();
        sender =
            fmt::format("publisher sent {} confirmed {} backlog {} | ", sent.sent, sent.confirmed,
                        sent.confirmed > t.unique ? sent.confirmed - t.unique : 0);
    }
    const std::string missing = sharing() ? std::string("share of group ") + options_.share_group
                                          : fmt::format("missing so far {}", t.missing);
    progress_.update(
        fmt::format("{}received {} unique {} | {} | duplicates {} | corrupt {} | "
                    "malformed {} | {:.0f} msg/s | p99 {:.2f} ms",
                    sender, t.received, t.unique, missing, t.duplicates, t.corrupt, t.malformed,
                    rate, static_cast<double>(verifier_.latency().percentile(0.99)) / 1000.0));
}

SubscriberRun::SenderTotals SubscriberRun::sender_totals() const {
    SenderTotals totals;
    for (const auto& [run, p] : progress_by_run_) {
        totals.sent += p.published;
        totals.confirmed += p.confirmed;
    }
    return totals;
}

void SubscriberRun::write_metrics(metrics::Exposition& out) const {
    const telemetry::LedgerTotals t = verifier_.ledger().totals();
    const SenderTotals sent = sender_totals();
    out.gauge("mqtt_subscriber_info", "This consumer (value 1)", 1,
              {{"version", MQTT_TELEMETRY_VERSION}});
    out.counter("mqtt_subscriber_received_total",
                "Telemetry messages received, duplicates included", t.received);
    out.counter("mqtt_subscriber_unique_total", "Distinct (run, device, seq) readings received",
                t.unique);
    out.counter("mqtt_subscriber_duplicates_total", "Readings received again", t.duplicates);
    out.counter("mqtt_subscriber_out_of_order_total",
                "Readings received after a later one of the same device", t.out_of_order);
    out.counter("mqtt_subscriber_malformed_total", "Messages not valid per the payload schema",
                t.malformed);
    out.counter("mqtt_subscriber_corrupt_total", "Messages whose checksum does not match",
                t.corrupt);
    out.counter("mqtt_subscriber_recovered_total", "Missing readings a repair request brought",
                verifier_.recovered());
    out.counter("mqtt_subscriber_reconnects_total", "Lost connections that came back",
                reconnects_.count());
    out.gauge("mqtt_subscriber_missing", "Readings expected but not received so far",
              static_cast<double>(t.missing));
    out.gauge("mqtt_subscriber_expected", "Readings the publishers announced (or the highest seen)",
              static_cast<double>(t.expected));
    out.gauge("mqtt_subscriber_publishers_confirmed",
              "Messages the publishers report confirmed by the broker (their progress messages)",
              static_cast<double>(sent.confirmed));
    out.gauge("mqtt_subscriber_backlog",
              "Messages the broker confirmed to the publishers but not yet received here",
              static_cast<double>(sent.confirmed > t.unique ? sent.confirmed - t.unique : 0));
    out.gauge("mqtt_subscriber_connected", "1 while connected to the broker",
              client_.connected() ? 1 : 0);
    out.histogram("mqtt_subscriber_latency_seconds",
                  "End to end: the reading's timestamp to its arrival here", verifier_.latency());
}

double SubscriberRun::elapsed_s() const {
    return first_message_ ? std::chrono::duration<double>(last_message_ - *first_message_).count()
                          : 0.0;
}

std::optional<report::DeviceStatus> SubscriberRun::device_report() const {
    if (!statuses_) return std::nullopt;
    return report::DeviceStatus{statuses_->filter(), statuses_->online(), statuses_->offline(),
                                statuses_->changes(), statuses_->offline_devices(kListedDevices)};
}

std::vector<report::SlowDevice> SubscriberRun::slowest_devices() const {
    std::vector<report::SlowDevice> list;
    for (const auto& d : verifier_.device_latency().slowest(kListedDevices))
        list.push_back({d.device, d.p99_us, d.max_us, d.messages});
    return list;
}

std::vector<report::ShardLatency> SubscriberRun::latency_by_shard() const {
    std::vector<report::ShardLatency> list;
    list.reserve(shard_devices_.size());
    for (const auto& [key, shard] : shard_devices_) {
        const auto all = verifier_.device_latency().combined(key.first, shard.devices);
        list.push_back({key.first, key.second, shard.shards, all.p99_us, all.max_us, all.messages});
    }
    return list;
}

std::vector<report::TransportLatency> SubscriberRun::latency_by_transport() const {
    std::vector<report::TransportLatency> list;
    const double secs = elapsed_s();
    for (const auto& [transport, devices] : transport_devices_) {
        const auto all = verifier_.device_latency().combined(
            transport, std::vector<std::string>(devices.begin(), devices.end()));
        list.push_back({transport, devices.size(), all.messages,
                        secs > 0 ? static_cast<double>(all.messages) / secs : 0.0, all.p50_us,
                        all.p99_us, all.max_us});
    }
    return list;
}

void SubscriberRun::print_latency_breakdown(std::FILE* out) const {
    if (transport_devices_.size() > 1)
        for (const report::TransportLatency& t : latency_by_transport())
            std::fprintf(
                out,
                "%s: over %s: %llu devices, %llu messages, %.0f msg/s, latency p50 %.2f "
                "ms, p99 %.2f ms, max %.2f ms\n",
                kSubscriberProgram, t.transport.c_str(), static_cast<unsigned long long>(t.devices),
                static_cast<unsigned long long>(t.messages), t.msgs_per_sec,
                static_cast<double>(t.p50_us) / 1000.0, static_cast<double>(t.p99_us) / 1000.0,
                static_cast<double>(t.max_us) / 1000.0);
    for (const report::ShardLatency& s : latency_by_shard())
        std::fprintf(out,
                     "%s: latency of run %s shard %u/%u: p99 %.2f ms, max %.2f ms over %llu "
                     "messages\n",
                     kSubscriberProgram, s.run.c_str(), s.shard, s.shards,
                     static_cast<double>(s.p99_us) / 1000.0, static_cast<double>(s.max_us) / 1000.0,
                     static_cast<unsigned long long>(s.messages));
}

void SubscriberRun::count_into(report::SubscriberReport& r) const {
    report::set_counts(r, verifier_.totals(options_.count));
    // A share-group member's missing messages are mostly the other members': not counted.
    if (sharing()) {
        r.missing.reset();
        r.share_group = options_.share_group;
    }
}

report::SubscriberReport SubscriberRun::report() const {
    report::SubscriberReport r;
    count_into(r);
    r.malformed_examples = verifier_.malformed_examples();
    r.corrupt_examples = verifier_.corrupt_examples();
    r.contradiction_examples = verifier_.ledger().contradiction_examples();
    // A share-group member's gaps are mostly the other members' messages: not listed.
    r.gaps = report::gaps_of(verifier_.ledger().gaps(sharing() ? 0 : options_.max_gaps));
    r.device_status = device_report();
    r.slowest_devices = slowest_devices();
    r.latency_by_shard = latency_by_shard();
    r.latency_by_transport = latency_by_transport();
    r.summaries = verifier_.summaries();
    if (retained_) r.retained = report::retained_of(retained_->totals());
    r.latency_us = report::summarize(verifier_.latency());
    r.started_epoch_s = timeline_.started_epoch_s();
    r.host = host_name();
    r.command = options_.output.command;
    r.timeline = telemetry::to_json(timeline_.rows());
    r.thresholds = options_.thresholds;
    r.failed_checks = failed_checks();
    r.verified = verified_;
    r.elapsed_s = elapsed_s();
    r.msgs_per_sec = r.elapsed_s > 0 ? static_cast<double>(r.unique) / r.elapsed_s : 0.0;
    r.end_reason = end_reason_name(end_.reason);
    r.publisher_behind_schedule_ms = publisher_behind_ms_;
    r.error = end_.error;
    r.exit_status = exit_status_;
    r.reconnects = reconnects_.rows();
    r.recovered_by_repair = verifier_.recovered();
    r.repair_requests = repair_requests_;
    // The ledger itself, so that mqtt_report can merge this consumer's view with others'.
    r.state = verifier_.state();
    return r;
}

}  // namespace app

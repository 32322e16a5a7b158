#include "report/merge.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include "telemetry/latency_histogram.hpp"
#include "telemetry/report.hpp"
#include "telemetry/sequence_ledger.hpp"
#include "telemetry/verdict.hpp"
#include "telemetry/verifier.hpp"

namespace report {
namespace {

constexpr std::size_t kListed = 20;  // gaps and slowest devices listed

template <class Report>
Report read_as(Input in, const char* program) {
    if (!in.doc.is_object() || in.doc.value("program", "") != program)
        throw std::runtime_error(fmt::format("{} is not a {} report", in.name, program));
    try {
        return take_from_json<Report>(std::move(in.doc));
    } catch (const FieldError& e) {
        throw std::runtime_error(fmt::format("{}: {}", in.name, e.what()));
    }
}

// One member's timeline on the wall clock.
struct Timeline {
    double start;
    const Json* rows;
};

// Each merged row's cumulative counts are the sum of every member's latest row by then; rates
// add up; latency columns (ending in "_us") take the worst.
Json merged_row(const std::vector<Timeline>& sources, double at,
                const std::set<std::string>& drop) {
    Json row = Json::object();
    for (const Timeline& s : sources) {
        const Json* latest = nullptr;
        for (const Json& r : *s.rows)
            if (s.start + r.value("t", 0.0) <= at + 1e-9) latest = &r;
        if (latest == nullptr) continue;
        const bool current = s.start + latest->value("t", 0.0) > at - 1.0;
        for (const auto& [key, value] : latest->items()) {
            if (key == "t" || drop.count(key) != 0 || !value.is_number()) continue;
            const double v = value.get<double>();
            if (key.size() > 3 && key.compare(key.size() - 3, 3, "_us") == 0)
                row[key] = std::max(row.value(key, 0.0), current ? v : 0.0);
            else if (key == "msgs_per_sec")
                row[key] = row.value(key, 0.0) + (current ? v : 0.0);
            else
                row[key] = row.value(key, 0.0) + v;
        }
    }
    return row;
}

// Sums timelines on one wall-clock grid. Reports without "started_epoch_s" are taken to have
// started together.
Json merge_timelines(const std::vector<Timeline>& sources, const std::set<std::string>& drop = {}) {
    double first = INFINITY, last = -INFINITY;
    std::vector<Timeline> used;
    for (const Timeline& s : sources) {
        if (!s.rows->is_array() || s.rows->empty()) continue;
        used.push_back(s);
        first = std::min(first, s.start);
        last = std::max(last, s.start + s.rows->back().value("t", 0.0));
    }
    Json merged = Json::array();
    for (double t = 1.0; !used.empty() && first + t < last + 1.0; t += 1.0) {
        Json row = merged_row(used, first + t, drop);
        row["t"] = t;
        merged.push_back(std::move(row));
    }
    return merged;
}

template <class Report>
std::vector<Timeline> timelines(const std::vector<Report>& reports) {
    std::vector<Timeline> list;
    list.reserve(reports.size());
    for (const Report& r : reports) list.push_back({r.started_epoch_s, &r.timeline});
    return list;
}

template <class Report>
double earliest_start(const std::vector<Report>& reports) {
    double first = 0.0;
    for (const Report& r : reports)
        if (r.started_epoch_s > 0 && (first == 0.0 || r.started_epoch_s < first))
            first = r.started_epoch_s;
    return first;
}

// The worst p99 per device over every member, slowest first.
std::vector<SlowDevice> slowest_devices(const std::vector<SubscriberReport>& reports) {
    std::map<std::string, SlowDevice> worst;
    for (const SubscriberReport& r : reports)
        for (const SlowDevice& d : r.slowest_devices) {
            const auto [it, fresh] = worst.try_emplace(d.device, d);
            if (!fresh && d.p99_us > it->second.p99_us) it->second = d;
        }
    std::vector<SlowDevice> list;
    list.reserve(worst.size());
    for (auto& [device, d] : worst) list.push_back(std::move(d));
    std::stable_sort(list.begin(), list.end(),
                     [](const SlowDevice& a, const SlowDevice& b) { return a.p99_us > b.p99_us; });
    if (list.size() > kListed) list.resize(kListed);
    return list;
}

// Each shard's latency as its slowest member saw it, with every member's messages.
std::vector<ShardLatency> latency_by_shard(const std::vector<SubscriberReport>& reports) {
    std::map<std::pair<std::string, std::uint32_t>, ShardLatency> by_shard;
    for (const SubscriberReport& r : reports)
        for (const ShardLatency& s : r.latency_by_shard) {
            const auto [it, fresh] = by_shard.try_emplace({s.run, s.shard}, s);
            if (fresh) continue;
            ShardLatency& all = it->second;
            all.p99_us = std::max(all.p99_us, s.p99_us);
            all.max_us = std::max(all.max_us, s.max_us);
            all.messages += s.messages;
        }
    std::vector<ShardLatency> list;
    list.reserve(by_shard.size());
    for (auto& [key, s] : by_shard) list.push_back(std::move(s));
    return list;
}

// Each transport's messages over every member, with its worst member's percentiles; its rate
// over the merged run's time (set by the caller).
std::vector<TransportLatency> latency_by_transport(const std::vector<SubscriberReport>& reports) {
    std::map<std::string, TransportLatency> by_transport;
    for (const SubscriberReport& r : reports)
        for (const TransportLatency& t : r.latency_by_transport) {
            const auto [it, fresh] = by_transport.try_emplace(t.transport, t);
            if (fresh) continue;
            TransportLatency& all = it->second;
            all.devices = std::max(all.devices, t.devices);  // members see the same summaries
            all.messages += t.messages;
            all.p50_us = std::max(all.p50_us, t.p50_us);
            all.p99_us = std::max(all.p99_us, t.p99_us);
            all.max_us = std::max(all.max_us, t.max_us);
        }
    std::vector<TransportLatency> list;
    list.reserve(by_transport.size());
    for (auto& [name, t] : by_transport) list.push_back(std::move(t));
    return list;
}

void append_reconnects(std::vector<Reconnect>& all, const std::vector<Reconnect>& more,
                       const std::string& name) {
    for (Reconnect r : more) {
        r.report = name;
        all.push_back(std::move(r));
    }
}

// A member's row: its file, how it ended, and what it counted.
template <class Report>
Member member_row(const std::string& name, const Report& r) {
    Member m;
    m.report = name;
    m.end_reason = r.end_reason;
    m.exit_status = r.exit_status;
    m.host = r.host;
    m.command = r.command;
    return m;
}

Member member_of(const std::string& name, const SubscriberReport& r) {
    Member m = member_row(name, r);
    m.received = r.received;
    m.unique = r.unique;
    m.share_group = r.share_group;
    return m;
}

Member member_of(const std::string& name, const PublisherReport& r) {
    Member m = member_row(name, r);
    m.published = r.published;
    m.confirmed = r.confirmed;
    m.run = r.run;
    m.shard = r.shard;
    return m;
}

// One member's ledger, latency and run summaries, from its report's "state".
telemetry::Verifier restored(const std::string& name, const Json& state) {
    if (!state.is_object())
        throw std::runtime_error(
            name +
            " has no ledger state to merge (written by an mqtt_subscriber older than the merge; "
            "run it again)");
    telemetry::Verifier v;
    try {
        v.restore(state);
    } catch (const std::exception& e) {
        throw std::runtime_error(fmt::format("{}: damaged ledger state: {}", name, e.what()));
    }
    return v;
}

void count_ledger(SubscriberReport& out, const telemetry::Verifier& joined) {
    const telemetry::LedgerTotals t = joined.totals();
    set_counts(out, t);
    out.malformed_examples = joined.malformed_examples();
    out.corrupt_examples = joined.corrupt_examples();
    out.contradiction_examples = joined.ledger().contradiction_examples();
    out.gaps = gaps_of(joined.ledger().gaps(kListed));
    out.summaries = joined.summaries();
    out.latency_us = summarize(joined.latency());
    out.recovered_by_repair = joined.recovered();
    std::vector<std::string> checks = telemetry::failed_checks(t, joined.latency(), out.thresholds);
    if (out.retained)
        for (std::string& f : telemetry::retained_failed_checks(totals_of(*out.retained)))
            checks.push_back(std::move(f));
    const telemetry::Verdict judged = telemetry::judge(std::move(checks), {});
    out.failed_checks = judged.failed;
    out.verified = judged.verified();
    out.exit_status = judged.exit_status;
}

}  // namespace

SubscriberReport read_subscriber(Input in) {
    return read_as<SubscriberReport>(std::move(in), "mqtt_subscriber");
}

PublisherReport read_publisher(Input in) {
    return read_as<PublisherReport>(std::move(in), "mqtt_publisher");
}

CommanderReport read_commander(Input in) {
    return read_as<CommanderReport>(std::move(in), "mqtt_commander");
}

namespace {
// Each input read as its program's report (moved, not copied), named by its file for the
// members table and errors.
template <class Report>
std::vector<Named<Report>> read_named(std::vector<Input> inputs, Report (*read)(Input)) {
    std::vector<Named<Report>> named;
    named.reserve(inputs.size());
    for (Input& in : inputs) {
        std::string name = in.name;
        named.push_back({std::move(name), read(std::move(in))});
    }
    return named;
}
}  // namespace

SubscriberReport merge_subscribers(std::vector<Input> inputs) {
    return merge_subscribers(read_named(std::move(inputs), &read_subscriber));
}

namespace {

// The members' ledgers joined into one: a message two members got is one delivery and one
// duplicate, a gap one member left and another filled is not missing (share-group members).
SubscriberReport join_members(std::vector<Named<SubscriberReport>> named) {
    SubscriberReport out;
    out.merged = true;
    out.end_reason = "merged";
    out.exit_status = 0;
    if (named.empty()) return out;
    telemetry::Verifier joined;
    std::optional<telemetry::RetainedTotals> retained;
    std::vector<SubscriberReport> reports;
    reports.reserve(named.size());
    for (Named<SubscriberReport>& member : named) {
        const std::string& name = member.name;
        SubscriberReport& r = member.report;
        joined.merge(restored(name, r.state));
        r.state = Json();  // joined: a member's ledger need not be held twice
        out.repair_requests += r.repair_requests;
        out.elapsed_s = std::max(out.elapsed_s, r.elapsed_s);
        out.members.push_back(member_of(name, r));
        append_reconnects(out.reconnects, r.reconnects, name);
        if (!out.device_status) out.device_status = r.device_status;
        if (r.connections) {
            if (!out.connections) out.connections.emplace();
            add_connections(*out.connections, *r.connections);
        }
        if (r.retained) {
            if (!retained) retained.emplace();
            telemetry::add_retained(*retained, totals_of(*r.retained));
        }
        reports.push_back(std::move(r));
    }
    out.thresholds = reports.front().thresholds;
    // Members of one share group merged stay that group's: mergeable with its other members.
    if (std::all_of(reports.begin(), reports.end(), [&](const SubscriberReport& r) {
            return r.share_group && r.share_group == reports.front().share_group;
        }))
        out.share_group = reports.front().share_group;
    if (retained) out.retained = retained_of(*retained);
    count_ledger(out, joined);
    out.slowest_devices = slowest_devices(reports);
    out.latency_by_shard = latency_by_shard(reports);
    out.latency_by_transport = latency_by_transport(reports);
    for (TransportLatency& t : out.latency_by_transport)
        t.msgs_per_sec = out.elapsed_s > 0 ? static_cast<double>(t.messages) / out.elapsed_s : 0.0;
    // Missing is a property of the merged ledger, not a sum of each member's view.
    out.timeline = merge_timelines(timelines(reports), {"missing"});
    out.started_epoch_s = earliest_start(reports);
    out.msgs_per_sec = out.elapsed_s > 0 ? static_cast<double>(out.unique) / out.elapsed_s : 0.0;
    // Mergeable again: a merged report is one more input for the next merge.
    out.state = joined.state();
    return out;
}

// The reports that make one consumer: a share group's members split the messages between
// them; any other subscriber is a consumer of its own.
struct ConsumerPlan {
    std::string rule;
    std::vector<std::size_t> members;  // indexes into the merge's reports
};

std::vector<ConsumerPlan> consumers_of(const std::vector<Named<SubscriberReport>>& named) {
    std::vector<ConsumerPlan> plans;
    std::map<std::string, std::size_t> group_plan;
    for (std::size_t i = 0; i < named.size(); ++i) {
        if (!named[i].report.consumers.empty())
            throw std::runtime_error(
                named[i].name +
                " is a merge of several consumers (fan-out): merge the reports it was made of");
        const auto& group = named[i].report.share_group;
        if (!group) {
            plans.push_back({"independent", {i}});
            continue;
        }
        const auto [it, fresh] = group_plan.try_emplace(*group, plans.size());
        if (fresh) plans.push_back({"share group " + *group, {}});
        plans[it->second].members.push_back(i);
    }
    return plans;
}

Consumer judged_consumer(const ConsumerPlan& plan,
                         const std::vector<Named<SubscriberReport>>& named) {
    std::vector<Named<SubscriberReport>> members;
    Consumer c;
    c.rule = plan.rule;
    for (const std::size_t i : plan.members) {
        members.push_back(named[i]);
        c.reports += (c.reports.empty() ? "" : ", ") + named[i].name;
    }
    const SubscriberReport alone = join_members(std::move(members));
    c.unique = alone.unique;
    c.expected = alone.expected;
    c.missing = alone.missing.value_or(0);
    c.duplicates = alone.duplicates;
    c.p50_us = alone.latency_us.p50;
    c.p99_us = alone.latency_us.p99;
    c.verified = alone.verified;
    c.failed_checks = alone.failed_checks;
    c.gaps = alone.gaps;
    return c;
}

// Fan-out: every consumer must get every message on its own; the run is verified when each
// is. Counts add up over the consumers (deliveries), and each failed check names its consumer.
void judge_fan_out(SubscriberReport& out, std::vector<Consumer> consumers) {
    const std::uint64_t published = out.expected;  // the joined ledger's: each message once
    out.unique = out.expected = out.duplicates = 0;
    std::uint64_t missing = 0;
    out.gaps.clear();
    out.failed_checks.clear();
    for (const Consumer& c : consumers) {
        out.unique += c.unique;
        out.expected += c.expected;
        missing += c.missing;
        out.duplicates += c.duplicates;
        for (const std::string& f : c.failed_checks)
            out.failed_checks.push_back(fmt::format("{} ({}): {}", c.reports, c.rule, f));
        for (const Gap& g : c.gaps)
            if (out.gaps.size() < kListed) out.gaps.push_back(g);
    }
    out.missing = missing;
    out.amplification =
        published > 0 ? static_cast<double>(out.unique) / static_cast<double>(published) : 0.0;
    const telemetry::Verdict judged = telemetry::judge(out.failed_checks, {});
    out.verified = judged.verified();
    out.exit_status = judged.exit_status;
    out.consumers = std::move(consumers);
}

}  // namespace

SubscriberReport merge_subscribers(std::vector<Named<SubscriberReport>> named) {
    const std::vector<ConsumerPlan> plans = consumers_of(named);
    std::vector<Consumer> consumers;
    if (plans.size() > 1)
        for (const ConsumerPlan& plan : plans) consumers.push_back(judged_consumer(plan, named));
    SubscriberReport out = join_members(std::move(named));
    for (const ConsumerPlan& plan : plans)
        for (const std::size_t i : plan.members) out.members[i].merged_as = plan.rule;
    if (plans.size() > 1) judge_fan_out(out, std::move(consumers));
    return out;
}

namespace {

telemetry::LatencyHistogram histogram_of(const std::string& name, const Json& state,
                                         const char* what) {
    try {
        return telemetry::LatencyHistogram::from_state(state);
    } catch (const std::exception& e) {
        throw std::runtime_error(fmt::format("{}: damaged {} state: {}", name, what, e.what()));
    }
}

// The members' schedules: lags merged exactly, breached when any member's was.
void add_schedule(ScheduleLag& into, const ScheduleLag& s) {
    into.paced = into.paced || s.paced;
    into.breached = into.breached || s.breached;
    into.requested_rate += s.requested_rate;
    into.achieved_rate += s.achieved_rate;
    into.limit_ms = std::max(into.limit_ms, s.limit_ms);
}

// The devices' side of commands (--commands), over every shard that took them.
void add_device_commands(std::optional<DeviceCommands>& into,
                         const std::optional<DeviceCommands>& r) {
    if (!r) return;
    if (!into) into.emplace();
    into->received += r->received;
    into->executed += r->executed;
    into->executed_again += r->executed_again;
    into->recognised += r->recognised;
    into->answers_sent += r->answers_sent;
    into->unreadable += r->unreadable;
}

void add_counts(PublisherReport& into, const PublisherReport& r) {
    into.devices += r.devices;
    into.requested += r.requested;
    into.published += r.published;
    into.confirmed += r.confirmed;
    into.rejected += r.rejected;
    into.no_subscribers += r.no_subscribers;
    into.repaired += r.repaired;
    into.unrepairable += r.unrepairable;
    into.unconfirmed += r.unconfirmed;
    into.summary_sent = into.summary_sent && r.summary_sent;
    into.summary_confirmed = into.summary_confirmed && r.summary_confirmed;
    for (const auto& [topic, n] : r.rejected_by_topic) into.rejected_by_topic[topic] += n;
    into.churn.planned += r.churn.planned;
    into.churn.dropped += r.churn.dropped;
    into.churn.returned += r.churn.returned;
    add_schedule(into.schedule_lag, r.schedule_lag);
    add_device_commands(into.commands, r.commands);
}

}  // namespace

PublisherReport merge_publishers(std::vector<Input> inputs) {
    std::vector<Named<PublisherReport>> named = read_named(std::move(inputs), &read_publisher);
    PublisherReport out;
    out.merged = true;
    out.end_reason = "merged";
    out.summary_sent = out.summary_confirmed = !named.empty();
    telemetry::LatencyHistogram puback, lag;
    bool have_latency = true;
    std::set<std::string> runs;
    std::uint64_t fresh_confirmed = 0;
    std::vector<PublisherReport> reports;
    reports.reserve(named.size());
    for (Named<PublisherReport>& member : named) {
        const std::string& name = member.name;
        const PublisherReport& r = reports.emplace_back(std::move(member.report));
        add_counts(out, r);
        fresh_confirmed += r.confirmed - std::min(r.confirmed, r.resumed_from);
        runs.insert(r.run);
        out.elapsed_s = std::max(out.elapsed_s, r.elapsed_s);
        have_latency = have_latency && !r.latency_state.is_null();
        if (!r.latency_state.is_null())
            puback.merge(histogram_of(name, r.latency_state, "latency"));
        if (!r.schedule_lag_state.is_null())
            lag.merge(histogram_of(name, r.schedule_lag_state, "schedule lag"));
        append_reconnects(out.reconnects, r.reconnects, name);
        out.members.push_back(member_of(name, r));
    }
    for (const std::string& r : runs) out.run += (out.run.empty() ? "" : ",") + r;
    if (!reports.empty()) out.qos = reports.front().qos;
    out.msgs_per_sec =
        out.elapsed_s > 0 ? static_cast<double>(fresh_confirmed) / out.elapsed_s : 0.0;
    // Without every member's histogram a merged percentile would be made up: leave it out.
    if (have_latency) {
        out.puback_latency_us = summarize(puback);
        out.latency_state = puback.state();
    }
    out.started_epoch_s = earliest_start(reports);
    out.timeline = merge_timelines(timelines(reports));
    out.schedule_lag.max_ms = static_cast<double>(lag.max()) / 1000.0;
    out.schedule_lag.p99_ms = static_cast<double>(lag.percentile(0.99)) / 1000.0;
    out.schedule_lag_state = lag.state();
    out.exit_status = verdict(&out, nullptr).exit_status;
    return out;
}

namespace {

// The commanders' latencies, merged bucket by bucket and summarised once at the end.
struct CommandLatencies {
    telemetry::LatencyHistogram round_trip, to_device, device_work, from_device;

    void add(const CommanderReport& r) {
        round_trip.merge(histogram_of(r.round_trip_us));
        to_device.merge(histogram_of(r.to_device_us));
        device_work.merge(histogram_of(r.device_work_us));
        from_device.merge(histogram_of(r.from_device_us));
    }
    void summarise_into(CommanderReport& out) const {
        out.round_trip_us = summarize(round_trip);
        out.to_device_us = summarize(to_device);
        out.device_work_us = summarize(device_work);
        out.from_device_us = summarize(from_device);
    }
};

void add_command_counts(CommanderReport& into, const CommanderReport& r) {
    into.devices += r.devices;
    into.sent += r.sent;
    into.delivered += r.delivered;
    into.answered += r.answered;
    into.answered_late += r.answered_late;
    into.failed += r.failed;
    into.lost += r.lost;
    into.pending += r.pending;
    into.executed_twice += r.executed_twice;
    into.duplicate_answers += r.duplicate_answers;
    into.out_of_order += r.out_of_order;
    into.unknown += r.unknown;
}

void command_member(CommanderReport& out, const std::string& name, const CommanderReport& r) {
    Member m = member_row(name, r);
    m.run = r.run;
    out.members.push_back(std::move(m));
    for (const std::string& d : r.silent_devices)
        if (out.silent_devices.size() < 10) out.silent_devices.push_back(d);
    for (const std::string& f : r.failed_checks)
        out.failed_checks.push_back(fmt::format("{}: {}", name, f));
    append_reconnects(out.reconnects, r.reconnects, name);
}

}  // namespace

CommanderReport merge_commanders(std::vector<Input> inputs) {
    std::vector<Named<CommanderReport>> named = read_named(std::move(inputs), &read_commander);
    CommanderReport out;
    out.merged = true;
    out.end_reason = "merged";
    std::set<std::string> runs;
    std::vector<CommanderReport> reports;
    reports.reserve(named.size());
    CommandLatencies latencies;
    for (Named<CommanderReport>& member : named) {
        const CommanderReport& r = reports.emplace_back(std::move(member.report));
        add_command_counts(out, r);
        latencies.add(r);
        command_member(out, member.name, r);
        runs.insert(r.run);
        out.elapsed_s = std::max(out.elapsed_s, r.elapsed_s);
    }
    for (const std::string& r : runs) out.run += (out.run.empty() ? "" : ",") + r;
    latencies.summarise_into(out);
    out.started_epoch_s = earliest_start(reports);
    out.timeline = merge_timelines(timelines(reports));
    const telemetry::Verdict v = verdict(nullptr, nullptr, &out);
    out.verified = v.verified();
    out.exit_status = v.exit_status;
    return out;
}

namespace {

void commander_checks(const CommanderReport& c, std::vector<std::string>& checks,
                      std::vector<telemetry::Ending>& endings) {
    for (const std::string& f : c.failed_checks) checks.push_back("commands: " + f);
    if (!c.merged) {
        endings.push_back({"the commander", c.exit_status, c.end_reason, !c.failed_checks.empty()});
        return;
    }
    if (c.members.empty()) checks.push_back("commands: no commander report");
    for (const Member& m : c.members)
        endings.push_back({"commander " + m.report, m.exit_status, m.end_reason,
                           m.exit_status == telemetry::kChecksFailed});
}

void publisher_checks(const PublisherReport& p, std::vector<std::string>& checks,
                      std::vector<telemetry::Ending>& endings) {
    if (p.unconfirmed > 0)
        checks.push_back(fmt::format("publishers left {} messages unconfirmed", p.unconfirmed));
    if (p.rejected > 0)
        checks.push_back(fmt::format("the broker rejected {} messages", p.rejected));
    if (!p.merged) {
        endings.push_back({"the publisher", p.exit_status, p.end_reason, false});
        return;
    }
    for (const Member& m : p.members)
        endings.push_back({"publisher " + m.report, m.exit_status, m.end_reason, false});
}

}  // namespace

telemetry::Verdict verdict(const PublisherReport* publisher, const SubscriberReport* subscriber,
                           const CommanderReport* commander) {
    std::vector<std::string> checks;
    std::vector<telemetry::Ending> endings;
    if (subscriber != nullptr) {
        checks = subscriber->failed_checks;
        // One subscriber's own ending counts too (a lost broker, say); merged members are
        // judged by their joined ledger alone.
        if (!subscriber->merged)
            endings.push_back({"the subscriber", subscriber->exit_status, subscriber->end_reason,
                               !checks.empty()});
    }
    if (publisher != nullptr) publisher_checks(*publisher, checks, endings);
    if (commander != nullptr) commander_checks(*commander, checks, endings);
    return telemetry::judge(std::move(checks), endings);
}

}  // namespace report

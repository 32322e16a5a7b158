#include "report/model.hpp"

#include <algorithm>

namespace report {

Latency summarize(const telemetry::LatencyHistogram& h) {
    Latency l;
    l.count = h.count();
    l.min = h.min();
    l.p50 = h.percentile(0.50);
    l.p90 = h.percentile(0.90);
    l.p99 = h.percentile(0.99);
    l.p99_9 = h.percentile(0.999);
    l.p99_99 = h.percentile(0.9999);
    l.max = h.max();
    l.mean = h.mean();
    l.negative = h.negative();
    l.most_negative = h.most_negative();
    for (const auto& b : h.buckets())
        l.buckets.push_back({b.from, b.to, static_cast<std::int64_t>(b.count)});
    return l;
}

telemetry::LatencyHistogram histogram_of(const Latency& l) {
    telemetry::LatencyHistogram h;
    for (const auto& [from, to, count] : l.buckets)
        for (std::int64_t i = 0; i < count; ++i) h.record(from);
    return h;
}

Retained retained_of(const telemetry::RetainedTotals& t) {
    return {t.devices, t.current, t.stale, t.missing, t.unreadable, t.examples};
}

telemetry::RetainedTotals totals_of(const Retained& r) {
    return {r.devices, r.current, r.stale, r.missing, r.unreadable, r.examples};
}

void add_connections(Connections& into, const Connections& o) {
    into.planned += o.planned;
    into.connected += o.connected;
    into.refused += o.refused;
    into.failed += o.failed;
    into.lost += o.lost;
    into.reconnected += o.reconnected;
    into.subscribed += o.subscribed;
    into.subscribe_refused += o.subscribe_refused;
    for (const auto& [reason, n] : o.refused_by_reason) into.refused_by_reason[reason] += n;
    for (const std::string& f : o.failures)
        if (into.failures.size() < 10) into.failures.push_back(f);
    into.connect_rate += o.connect_rate;
    into.held_s = std::max(into.held_s, o.held_s);
    for (const auto& [step, latency] : o.steps_us) {
        telemetry::LatencyHistogram h = histogram_of(latency);
        if (const auto it = into.steps_us.find(step); it != into.steps_us.end())
            h.merge(histogram_of(it->second));
        into.steps_us[step] = summarize(h);
    }
}

std::vector<Gap> gaps_of(const std::vector<telemetry::DeviceGap>& gaps) {
    std::vector<Gap> list;
    list.reserve(gaps.size());
    for (const telemetry::DeviceGap& g : gaps)
        list.push_back(
            {g.run, g.device, g.range.first, g.range.last, g.range.last - g.range.first + 1});
    return list;
}

DeviceCounts device_counts(const telemetry::LedgerTotals& t) {
    return {t.devices, t.devices_seen, t.devices_complete, t.devices_with_loss, t.devices_outside};
}

void set_counts(SubscriberReport& r, const telemetry::LedgerTotals& t) {
    r.received = t.received;
    r.unique = t.unique;
    r.expected = t.expected;
    r.missing = t.missing;
    r.duplicates = t.duplicates;
    r.out_of_order = t.out_of_order;
    r.malformed = t.malformed;
    r.corrupt = t.corrupt;
    r.contradictions = t.contradictions;
    r.devices = device_counts(t);
}

}  // namespace report

namespace telemetry {

void to_json(report::Json& j, const Thresholds& t) {
    j = {{"max_missing", t.max_missing},
         {"max_duplicates", t.max_duplicates},
         {"max_p99_ms", t.max_p99_ms}};
}

namespace {
// Thresholds belong to telemetry, which knows no JSON of reports: read through this view.
struct ThresholdFields {
    Thresholds& t;
    template <class Self, class Field>
    static void fields(Self& s, Field&& f) {
        f("max_missing", s.t.max_missing);
        f("max_duplicates", s.t.max_duplicates);
        f("max_p99_ms", s.t.max_p99_ms);
    }
};
}  // namespace

void from_json(const report::Json& j, Thresholds& t) {
    ThresholdFields view{t};
    report::detail::read(j, view);
}

}  // namespace telemetry

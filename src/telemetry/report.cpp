#include "telemetry/report.hpp"

#include <fmt/format.h>

namespace telemetry {

nlohmann::json to_json(const std::vector<PublisherSecond>& timeline) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& r : timeline)
        rows.push_back({{"t", r.t_s},
                        {"published", r.published},
                        {"confirmed", r.confirmed},
                        {"in_flight", r.in_flight},
                        {"window", r.window},
                        {"msgs_per_sec", r.msgs_per_sec},
                        {"puback_p50_us", r.puback_p50_us},
                        {"puback_p99_us", r.puback_p99_us},
                        {"schedule_lag_us", r.schedule_lag_us}});
    return rows;
}

nlohmann::json to_json(const std::vector<SubscriberSecond>& timeline) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& r : timeline)
        rows.push_back({{"t", r.t_s},
                        {"received", r.received},
                        {"unique", r.unique},
                        {"missing", r.missing},
                        {"duplicates", r.duplicates},
                        {"corrupt", r.corrupt},
                        {"msgs_per_sec", r.msgs_per_sec},
                        {"p50_us", r.p50_us},
                        {"p99_us", r.p99_us}});
    return rows;
}

nlohmann::json to_json(const std::vector<CommanderSecond>& timeline) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& r : timeline)
        rows.push_back({{"t", r.t_s},
                        {"sent", r.sent},
                        {"delivered", r.delivered},
                        {"answered", r.answered},
                        {"waiting", r.waiting},
                        {"msgs_per_sec", r.msgs_per_sec},
                        {"round_trip_p50_us", r.round_trip_p50_us},
                        {"round_trip_p99_us", r.round_trip_p99_us}});
    return rows;
}

std::string timeline_csv(const std::vector<CommanderSecond>& timeline) {
    std::string csv =
        "t_s,sent,delivered,answered,waiting,msgs_per_sec,round_trip_p50_us,round_trip_p99_us\n";
    for (const auto& r : timeline)
        csv +=
            fmt::format("{:.3f},{},{},{},{},{:.1f},{},{}\n", r.t_s, r.sent, r.delivered, r.answered,
                        r.waiting, r.msgs_per_sec, r.round_trip_p50_us, r.round_trip_p99_us);
    return csv;
}

std::string timeline_csv(const std::vector<PublisherSecond>& timeline) {
    std::string csv =
        "t_s,published,confirmed,in_flight,window,msgs_per_sec,puback_p50_us,puback_p99_us,"
        "schedule_lag_us\n";
    for (const auto& r : timeline)
        csv += fmt::format("{:.3f},{},{},{},{},{:.1f},{},{},{}\n", r.t_s, r.published, r.confirmed,
                           r.in_flight, r.window, r.msgs_per_sec, r.puback_p50_us, r.puback_p99_us,
                           r.schedule_lag_us);
    return csv;
}

std::string timeline_csv(const std::vector<SubscriberSecond>& timeline) {
    std::string csv = "t_s,received,unique,missing,duplicates,corrupt,msgs_per_sec,p50_us,p99_us\n";
    for (const auto& r : timeline)
        csv += fmt::format("{:.3f},{},{},{},{},{},{:.1f},{},{}\n", r.t_s, r.received, r.unique,
                           r.missing, r.duplicates, r.corrupt, r.msgs_per_sec, r.p50_us, r.p99_us);
    return csv;
}

std::vector<std::string> failed_checks(const LedgerTotals& t, const LatencyHistogram& latency,
                                       const Thresholds& th) {
    std::vector<std::string> failed;
    if (t.unique == 0) failed.push_back("no message arrived");
    if (t.contradictions > 0)
        failed.push_back(
            fmt::format("{} contradiction{} between what arrived and what was announced",
                        t.contradictions, t.contradictions == 1 ? "" : "s"));
    // An idle end before the summary verifies only what happened to arrive [issue 29].
    if (t.runs_unsummarised > 0)
        failed.push_back(
            fmt::format("{} run{} without a run summary: what was published is unknown",
                        t.runs_unsummarised, t.runs_unsummarised == 1 ? "" : "s"));
    if (t.missing > th.max_missing)
        failed.push_back(fmt::format("missing {} > --max-missing {}", t.missing, th.max_missing));
    if (t.malformed > 0) failed.push_back(fmt::format("malformed {} > 0", t.malformed));
    if (t.corrupt > 0) failed.push_back(fmt::format("corrupt {} > 0", t.corrupt));
    if (th.max_duplicates && t.duplicates > *th.max_duplicates)
        failed.push_back(
            fmt::format("duplicates {} > --max-duplicates {}", t.duplicates, *th.max_duplicates));
    if (th.max_p99_ms && latency.count() == 0)
        failed.push_back(
            fmt::format("--max-p99-ms {} cannot be checked: no latency sample", *th.max_p99_ms));
    else if (th.max_p99_ms && latency.negative() > 0)
        failed.push_back(fmt::format(
            "--max-p99-ms {} cannot be checked: the clocks disagree ({} latencies negative, the "
            "most negative {:.3f} ms)",
            *th.max_p99_ms, latency.negative(),
            static_cast<double>(latency.most_negative()) / 1000.0));
    else if (th.max_p99_ms) {
        const double p99_ms = static_cast<double>(latency.percentile(0.99)) / 1000.0;
        if (p99_ms > *th.max_p99_ms)
            failed.push_back(
                fmt::format("p99 {:.3f} ms > --max-p99-ms {}", p99_ms, *th.max_p99_ms));
    }
    return failed;
}

}  // namespace telemetry

#pragma once
// The report model: per-second timelines, latency summaries and verdicts, as the JSON
// documents both programs write (--report) and the HTML writer and `mqtt_report` read.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "telemetry/latency_histogram.hpp"
#include "telemetry/sequence_ledger.hpp"

namespace telemetry {

struct PublisherSecond {
    double t_s{};
    std::uint64_t published{}, confirmed{}, in_flight{};
    std::uint64_t window{};  // the in-flight window at the end of the second (--window auto)
    double msgs_per_sec{};
    std::int64_t puback_p50_us{}, puback_p99_us{};
    // How late the latest-sent message of the second went out after it was due, or the oldest
    // due one waited (the larger); 0 without a schedule.
    std::int64_t schedule_lag_us{};
};

struct SubscriberSecond {
    double t_s{};
    std::uint64_t received{}, unique{}, missing{}, duplicates{}, corrupt{};
    double msgs_per_sec{};
    std::int64_t p50_us{}, p99_us{};
};

// mqtt_commander's second: cumulative counts, answers per second, the second's round trip.
struct CommanderSecond {
    double t_s{};
    std::uint64_t sent{}, delivered{}, answered{}, waiting{};  // waiting: sent, not answered
    double msgs_per_sec{};                                     // final answers per second
    std::int64_t round_trip_p50_us{}, round_trip_p99_us{};
};

nlohmann::json to_json(const std::vector<PublisherSecond>& timeline);
nlohmann::json to_json(const std::vector<CommanderSecond>& timeline);
std::string timeline_csv(const std::vector<CommanderSecond>& timeline);
nlohmann::json to_json(const std::vector<SubscriberSecond>& timeline);
std::string timeline_csv(const std::vector<PublisherSecond>& timeline);
std::string timeline_csv(const std::vector<SubscriberSecond>& timeline);

// Pass/fail thresholds of the subscriber's verdict (--max-missing and friends).
struct Thresholds {
    std::uint64_t max_missing{0};
    std::optional<std::uint64_t> max_duplicates;
    std::optional<double> max_p99_ms;
};

// Which thresholds a run broke, each as one readable line; empty means verified. Malformed and
// corrupt messages always fail, and so does a run in which nothing arrived.
std::vector<std::string> failed_checks(const LedgerTotals& totals, const LatencyHistogram& latency,
                                       const Thresholds& thresholds);

}  // namespace telemetry

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

namespace report {
namespace {

using json = nlohmann::json;

constexpr std::size_t kExamples = 5;  // as the subscriber keeps
constexpr std::size_t kListed = 20;   // gaps and slowest devices listed
constexpr const char* kSubscriber = "mqtt_subscriber";
constexpr const char* kPublisher = "mqtt_publisher";

void require_program(const Input& in, const char* program) {
    if (!in.doc.is_object() || in.doc.value("program", "") != program)
        throw std::runtime_error(fmt::format("{} is not a {} report", in.name, program));
}

std::uint64_t count(const json& doc, const char* key) {
    const auto it = doc.find(key);
    const bool counted = it != doc.end() && it->is_number_integer() && it->get<std::int64_t>() >= 0;
    return counted ? it->get<std::uint64_t>() : 0;
}

double number(const json& doc, const char* key) {
    const auto it = doc.find(key);
    return it != doc.end() && it->is_number() ? it->get<double>() : 0.0;
}

// Sums timelines on one wall-clock grid: each row's cumulative counts are the sum of every
// report's latest row by then; rates add up; latency columns (ending in "_us") take the worst.
// Reports without "started_epoch_s" are taken to have started together.
json merge_timelines(const std::vector<Input>& reports, const std::set<std::string>& drop = {}) {
    struct Source {
        double start;
        const json* rows;
    };
    std::vector<Source> sources;
    double first = INFINITY, last = -INFINITY;
    for (const Input& in : reports) {
        const double start = number(in.doc, "started_epoch_s");
        const auto it = in.doc.find("timeline");
        if (it == in.doc.end() || !it->is_array() || it->empty()) continue;
        const json& rows = *it;
        sources.push_back({start, &rows});
        first = std::min(first, start);
        last = std::max(last, start + rows.back().value("t", 0.0));
    }
    json merged = json::array();
    if (sources.empty()) return merged;
    for (double t = 1.0; first + t < last + 1.0; t += 1.0) {
        json row = json::object();
        const double at = first + t;
        for (const Source& s : sources) {
            const json* latest = nullptr;
            for (const json& r : *s.rows)
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
        row["t"] = t;
        merged.push_back(std::move(row));
    }
    return merged;
}

double earliest_start(const std::vector<Input>& reports) {
    double first = 0.0;
    for (const Input& in : reports) {
        const double start = number(in.doc, "started_epoch_s");
        if (start > 0 && (first == 0.0 || start < first)) first = start;
    }
    return first;
}

json concat_arrays(const std::vector<Input>& reports, const char* key, std::size_t limit) {
    json all = json::array();
    for (const Input& in : reports)
        if (in.doc.contains(key) && in.doc[key].is_array())
            for (const json& item : in.doc[key])
                if (all.size() < limit) all.push_back(item);
    return all;
}

// The worst p99 per device over every member, slowest first.
json slowest_devices(const std::vector<Input>& reports) {
    std::map<std::string, json> worst;
    for (const Input& in : reports)
        for (const json& d : in.doc.value("slowest_devices", json::array())) {
            json& w = worst[d.value("device", "")];
            if (w.is_null() || d.value("p99_us", 0.0) > w.value("p99_us", 0.0)) w = d;
        }
    std::vector<json> list;
    list.reserve(worst.size());
    for (auto& [device, d] : worst) list.push_back(std::move(d));
    std::sort(list.begin(), list.end(), [](const json& a, const json& b) {
        return a.value("p99_us", 0.0) > b.value("p99_us", 0.0);
    });
    if (list.size() > kListed) list.resize(kListed);
    return list;
}

telemetry::Thresholds thresholds_of(const json& doc) {
    telemetry::Thresholds th;
    const json t = doc.value("thresholds", json::object());
    th.max_missing = t.value("max_missing", std::uint64_t{0});
    if (t.contains("max_duplicates") && t["max_duplicates"].is_number())
        th.max_duplicates = t["max_duplicates"].get<std::uint64_t>();
    if (t.contains("max_p99_ms") && t["max_p99_ms"].is_number())
        th.max_p99_ms = t["max_p99_ms"].get<double>();
    return th;
}

json member_row(const Input& in) {
    json row = {{"report", in.name},
                {"end_reason", in.doc.value("end_reason", "")},
                {"exit_status", in.doc.value("exit_status", -1)}};
    for (const char* key : {"received", "unique", "published", "confirmed"})
        if (in.doc.contains(key)) row[key] = in.doc[key];
    for (const char* key : {"share_group", "shard", "run", "client_id"})
        if (in.doc.contains(key) && !in.doc[key].is_null()) row[key] = in.doc[key];
    return row;
}

}  // namespace

json merge_subscribers(const std::vector<Input>& reports) {
    if (reports.empty()) return nullptr;
    telemetry::DeliveryLedger ledger;
    telemetry::LatencyHistogram latency;
    std::set<std::string> summaries;
    std::uint64_t recovered = 0, repair_requests = 0;
    double elapsed = 0.0;
    json members = json::array(), reconnects = json::array();
    json device_status = nullptr;
    for (const Input& in : reports) {
        require_program(in, kSubscriber);
        const auto found = in.doc.find("state");
        if (found == in.doc.end() || !found->is_object())
            throw std::runtime_error(
                in.name +
                " has no ledger state to merge (written by an mqtt_subscriber older than "
                "the merge; run it again)");
        const json& state = *found;
        try {
            ledger.merge(telemetry::DeliveryLedger::from_state(state.at("ledger")));
            latency.merge(telemetry::LatencyHistogram::from_state(state.at("latency")));
            for (const auto& s : state.at("summaries")) summaries.insert(s.get<std::string>());
        } catch (const std::exception& e) {
            throw std::runtime_error(
                fmt::format("{}: damaged ledger state: {}", in.name, e.what()));
        }
        recovered += count(in.doc, "recovered_by_repair");
        repair_requests += count(in.doc, "repair_requests");
        elapsed = std::max(elapsed, number(in.doc, "elapsed_s"));
        members.push_back(member_row(in));
        for (const json& r : in.doc.value("reconnects", json::array())) {
            json row = r;
            row["report"] = in.name;
            reconnects.push_back(std::move(row));
        }
        if (device_status.is_null()) device_status = in.doc.value("device_status", json());
    }
    const telemetry::LedgerTotals t = ledger.totals();
    const telemetry::Thresholds th = thresholds_of(reports.front().doc);
    const telemetry::Verdict judged =
        telemetry::judge(telemetry::failed_checks(t, latency, th), {});
    const std::vector<std::string> summary_list(summaries.begin(), summaries.end());
    return {
        {"program", kSubscriber},
        {"merged", true},
        {"members", members},
        {"received", t.received},
        {"unique", t.unique},
        {"expected", t.expected},
        {"missing", t.missing},
        {"duplicates", t.duplicates},
        {"out_of_order", t.out_of_order},
        {"malformed", t.malformed},
        {"corrupt", t.corrupt},
        {"malformed_examples", concat_arrays(reports, "malformed_examples", kExamples)},
        {"corrupt_examples", concat_arrays(reports, "corrupt_examples", kExamples)},
        {"contradictions", t.contradictions},
        {"contradiction_examples", ledger.contradiction_examples()},
        {"gaps", telemetry::gaps_json(ledger.gaps(kListed))},
        {"devices", telemetry::devices_json(t)},
        {"device_status", device_status},
        {"slowest_devices", slowest_devices(reports)},
        {"summaries", summary_list},
        {"latency_us", telemetry::latency_summary(latency, true)},
        // Missing is a property of the merged ledger, not a sum of each member's view.
        {"timeline", merge_timelines(reports, {"missing"})},
        {"started_epoch_s", earliest_start(reports)},
        {"thresholds", reports.front().doc.value("thresholds", json::object())},
        {"failed_checks", judged.failed},
        {"verified", judged.verified()},
        {"elapsed_s", elapsed},
        {"msgs_per_sec", elapsed > 0 ? static_cast<double>(t.unique) / elapsed : 0.0},
        {"end_reason", "merged"},
        {"error", ""},
        {"exit_status", judged.exit_status},
        {"reconnects", reconnects},
        {"recovered_by_repair", recovered},
        {"repair_requests", repair_requests},
        // Mergeable again: a merged report is one more input for the next merge.
        {"state",
         {{"ledger", ledger.state()},
          {"latency", latency.state()},
          {"summaries", summary_list},
          {"recovered", recovered},
          {"requested", json::object()},
          {"malformed_examples", json::array()},
          {"corrupt_examples", json::array()}}},
    };
}

json merge_publishers(const std::vector<Input>& reports) {
    if (reports.empty()) return nullptr;
    json merged = {{"program", kPublisher}, {"merged", true}};
    telemetry::LatencyHistogram puback, lag;
    bool have_latency = true;
    // The members' schedules: lags merged exactly, breached when any member's was.
    json schedule = {{"paced", false},
                     {"breached", false},
                     {"requested_rate", 0.0},
                     {"achieved_rate", 0.0},
                     {"limit_ms", 0.0}};
    std::set<std::string> runs;
    std::map<std::string, std::uint64_t> rejected_by_topic;
    std::uint64_t fresh_confirmed = 0;
    double elapsed = 0.0;
    json members = json::array(), reconnects = json::array();
    json churn = {{"planned", 0}, {"dropped", 0}, {"returned", 0}};
    for (const Input& in : reports) {
        require_program(in, kPublisher);
        const json& doc = in.doc;
        for (const char* key :
             {"devices", "requested", "published", "confirmed", "rejected", "repaired",
              "unrepairable", "unconfirmed", "summary_sent", "summary_confirmed"})
            merged[key] = merged.value(key, std::uint64_t{0}) + count(doc, key);
        fresh_confirmed +=
            count(doc, "confirmed") - std::min(count(doc, "confirmed"), count(doc, "resumed_from"));
        runs.insert(doc.value("run", ""));
        if (doc.contains("rejected_by_topic") && doc["rejected_by_topic"].is_object())
            for (const auto& [topic, n] : doc["rejected_by_topic"].items())
                rejected_by_topic[topic] += n.is_number_integer() ? n.get<std::uint64_t>() : 0;
        elapsed = std::max(elapsed, number(doc, "elapsed_s"));
        if (doc.contains("latency_state")) {
            try {
                puback.merge(telemetry::LatencyHistogram::from_state(doc["latency_state"]));
            } catch (const std::exception& e) {
                throw std::runtime_error(
                    fmt::format("{}: damaged latency state: {}", in.name, e.what()));
            }
        } else {
            have_latency = false;
        }
        if (const json s = doc.value("schedule_lag", json::object()); s.is_object()) {
            schedule["paced"] = schedule["paced"].get<bool>() || s.value("paced", false);
            schedule["breached"] = schedule["breached"].get<bool>() || s.value("breached", false);
            for (const char* key : {"requested_rate", "achieved_rate"})
                schedule[key] = schedule[key].get<double>() + number(s, key);
            schedule["limit_ms"] =
                std::max(schedule["limit_ms"].get<double>(), number(s, "limit_ms"));
        }
        if (doc.contains("schedule_lag_state")) try {
                lag.merge(telemetry::LatencyHistogram::from_state(doc["schedule_lag_state"]));
            } catch (const std::exception& e) {
                throw std::runtime_error(
                    fmt::format("{}: damaged schedule lag state: {}", in.name, e.what()));
            }
        if (doc.contains("churn") && doc["churn"].is_object())
            for (const char* key : {"planned", "dropped", "returned"})
                churn[key] = churn[key].get<std::uint64_t>() + count(doc["churn"], key);
        for (const json& r : doc.value("reconnects", json::array())) {
            json row = r;
            row["report"] = in.name;
            reconnects.push_back(std::move(row));
        }
        members.push_back(member_row(in));
    }
    std::string run_names;
    for (const std::string& r : runs) run_names += (run_names.empty() ? "" : ",") + r;
    merged["run"] = run_names;
    merged["qos"] = reports.front().doc.value("qos", 1);
    merged["members"] = members;
    merged["rejected_by_topic"] = rejected_by_topic;
    merged["elapsed_s"] = elapsed;
    merged["msgs_per_sec"] = elapsed > 0 ? static_cast<double>(fresh_confirmed) / elapsed : 0.0;
    merged["end_reason"] = "merged";
    merged["error"] = "";
    // Without every member's histogram a merged percentile would be made up: leave it out.
    merged["puback_latency_us"] =
        have_latency ? telemetry::latency_summary(puback, true) : json::object();
    if (have_latency) merged["latency_state"] = puback.state();
    merged["started_epoch_s"] = earliest_start(reports);
    merged["timeline"] = merge_timelines(reports);
    merged["reconnects"] = reconnects;
    merged["churn"] = churn;
    schedule["max_ms"] = static_cast<double>(lag.max()) / 1000.0;
    schedule["p99_ms"] = static_cast<double>(lag.percentile(0.99)) / 1000.0;
    merged["schedule_lag"] = schedule;
    merged["schedule_lag_state"] = lag.state();
    return merged;
}

telemetry::Verdict verdict(const json& publisher, const json& subscriber) {
    std::vector<std::string> checks;
    std::vector<telemetry::Ending> endings;
    if (subscriber.is_object()) {
        for (const auto& f : subscriber.value("failed_checks", json::array()))
            checks.push_back(f.get<std::string>());
        // One subscriber's own ending counts too (a lost broker, say); merged members are
        // judged by their joined ledger alone.
        if (!subscriber.value("merged", false))
            endings.push_back({"the subscriber", subscriber.value("exit_status", -1),
                               subscriber.value("end_reason", ""), !checks.empty()});
    }
    if (publisher.is_object()) {
        if (const std::uint64_t n = count(publisher, "unconfirmed"); n > 0)
            checks.push_back(fmt::format("publishers left {} messages unconfirmed", n));
        if (const std::uint64_t n = count(publisher, "rejected"); n > 0)
            checks.push_back(fmt::format("the broker rejected {} messages", n));
        const json members =
            publisher.value("merged", false)
                ? publisher.value("members", json::array())
                : json::array({{{"who", "the publisher"},
                                {"exit_status", publisher.value("exit_status", -1)},
                                {"end_reason", publisher.value("end_reason", "")}}});
        for (const json& m : members)
            endings.push_back({m.value("who", "publisher " + m.value("report", std::string())),
                               m.value("exit_status", -1), m.value("end_reason", ""), false});
    }
    return telemetry::judge(std::move(checks), endings);
}

}  // namespace report

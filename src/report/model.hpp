#pragma once
// The report model [issue 23]: what mqtt_publisher and mqtt_subscriber write with --report,
// what mqtt_report merges and what the HTML page shows, as types. The runs fill them, the merge
// and the page read them; JSON is only their file format. src/report/README.md documents every
// field, and ReportModel.EveryDocumentedFieldIsInTheModelAndBack fails when the two disagree.
//
// Reading is lenient where reports of older versions differ (a missing field keeps its
// default, an unknown one is ignored) and strict where a value is wrong: a field of the wrong
// type throws FieldError naming it ("devices.known: expected a number").

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "telemetry/latency_histogram.hpp"
#include "telemetry/report.hpp"
#include "telemetry/retained_check.hpp"

// null <-> std::nullopt, for the fields a report leaves empty (a share-group member's
// "missing", a publisher's "shard" outside a sharded run).
NLOHMANN_JSON_NAMESPACE_BEGIN
template <class T>
struct adl_serializer<std::optional<T>> {
    template <class Json>
    static void to_json(Json& j, const std::optional<T>& value) {
        if (value)
            j = *value;
        else
            j = nullptr;
    }
    template <class Json>
    static void from_json(const Json& j, std::optional<T>& value) {
        if (j.is_null())
            value.reset();
        else
            value = j.template get<T>();
    }
};
NLOHMANN_JSON_NAMESPACE_END

namespace report {

using Json = nlohmann::json;

// A field of a report that has the wrong type; the path names it from the report's top.
class FieldError : public std::runtime_error {
  public:
    FieldError(std::string path, std::string expected, const std::string& found)
        : std::runtime_error((path.empty() ? "" : path + ": ") + "expected " + expected +
                             ", found " + found),
          path_(std::move(path)),
          expected_(std::move(expected)),
          found_(found) {}
    const std::string& path() const { return path_; }
    const std::string& expected() const { return expected_; }
    const std::string& found() const { return found_; }

  private:
    std::string path_, expected_, found_;
};

// A latency histogram's summary in µs ("latency_us", "puback_latency_us").
struct Latency {
    std::uint64_t count{};
    std::int64_t min{}, p50{}, p90{}, p99{}, p99_9{}, p99_99{}, max{};
    double mean{};
    std::uint64_t negative{};      // readings stamped later than they arrived (clock skew)
    std::int64_t most_negative{};  // the earliest of those, 0 when none
    std::vector<std::array<std::int64_t, 3>> buckets;  // [from_us, to_us, count], lowest first

    template <class Self, class Field>
    static void fields(Self& s, Field&& f) {
        f("count", s.count);
        f("min", s.min);
        f("p50", s.p50);
        f("p90", s.p90);
        f("p99", s.p99);
        f("p99_9", s.p99_9);
        f("p99_99", s.p99_99);
        f("max", s.max);
        f("mean", s.mean);
        f("negative", s.negative);
        f("most_negative", s.most_negative);
        f("buckets", s.buckets);
    }
};
Latency summarize(const telemetry::LatencyHistogram& h);
// A histogram with the summary's bucket counts (each at its bucket's lowest value), to merge
// summaries bucket by bucket (within the histogram's 0.4% resolution).
telemetry::LatencyHistogram histogram_of(const Latency& l);

struct Gap {
    std::string run, device;
    std::uint64_t first{}, last{}, count{};

    template <class Self, class Field>
    static void fields(Self& s, Field&& f) {
        f("run", s.run);
        f("device", s.device);
        f("first", s.first);
        f("last", s.last);
        f("count", s.count);
    }
};
std::vector<Gap> gaps_of(const std::vector<telemetry::DeviceGap>& gaps);

struct DeviceCounts {
    std::uint64_t known{}, seen{}, complete{}, with_loss{};
    std::uint64_t outside{};  // announced on topics outside the subscriptions: not expected

    template <class Self, class Field>
    static void fields(Self& s, Field&& f) {
        f("known", s.known);
        f("seen", s.seen);
        f("complete", s.complete);
        f("with_loss", s.with_loss);
        f("outside", s.outside);
    }
};
DeviceCounts device_counts(const telemetry::LedgerTotals& totals);

// The devices' own online/offline messages (--status-topic).
struct DeviceStatus {
    std::string topic;
    std::uint64_t online{}, offline{}, changes{};
    std::vector<std::string> offline_devices;  // the first few

    template <class Self, class Field>
    static void fields(Self& s, Field&& f) {
        f("topic", s.topic);
        f("online", s.online);
        f("offline", s.offline);
        f("changes", s.changes);
        f("offline_devices", s.offline_devices);
    }
};

struct SlowDevice {
    std::string device;
    std::int64_t p99_us{}, max_us{};
    std::uint64_t messages{};

    template <class Self, class Field>
    static void fields(Self& s, Field&& f) {
        f("device", s.device);
        f("p99_us", s.p99_us);
        f("max_us", s.max_us);
        f("messages", s.messages);
    }
};

// The messages of the devices that reached the broker one way ("tcp", "tls", "ws", "wss", as
// the publishers' run summaries say), so that transports compare side by side in one run:
// their share of the throughput and their latency (from the per-device sketches, +-19%).
struct TransportLatency {
    std::string transport;
    std::uint64_t devices{}, messages{};
    double msgs_per_sec{};
    std::int64_t p50_us{}, p99_us{}, max_us{};

    template <class Self, class Field>
    static void fields(Self& s, Field&& f) {
        f("transport", s.transport);
        f("devices", s.devices);
        f("messages", s.messages);
        f("msgs_per_sec", s.msgs_per_sec);
        f("p50_us", s.p50_us);
        f("p99_us", s.p99_us);
        f("max_us", s.max_us);
    }
};

// The latency of one publisher shard's messages (--shard I/N): in a cluster, shards publish
// through different brokers, and the path each took shows here.
struct ShardLatency {
    std::string run;
    std::uint32_t shard{}, shards{};
    std::int64_t p99_us{}, max_us{};
    std::uint64_t messages{};

    template <class Self, class Field>
    static void fields(Self& s, Field&& f) {
        f("run", s.run);
        f("shard", s.shard);
        f("shards", s.shards);
        f("p99_us", s.p99_us);
        f("max_us", s.max_us);
        f("messages", s.messages);
    }
};

struct Reconnect {
    double t_s{};  // since the program started
    std::string cause;
    double outage_s{};
    int attempts{};
    bool session_present{};
    std::optional<std::string> report;  // in a merged report: whose reconnection it was

    template <class Self, class Field>
    static void fields(Self& s, Field&& f) {
        f("t_s", s.t_s);
        f("cause", s.cause);
        f("outage_s", s.outage_s);
        f("attempts", s.attempts);
        f("session_present", s.session_present);
        f("report", s.report);
    }
};

// One report a merged report was made of.
struct Member {
    std::string report;  // its file
    std::string end_reason;
    int exit_status{-1};
    std::optional<std::uint64_t> received, unique;      // a subscriber's
    std::optional<std::uint64_t> published, confirmed;  // a publisher's
    std::optional<std::string> share_group, run;
    // A subscriber's: how the merge counted it, "share group G" (its share with the other
    // members') or "independent" (a consumer of its own that must get every message).
    std::optional<std::string> merged_as;
    std::optional<std::array<int, 2>> shard;  // [I, N]
    std::string host, command;                // where and how it ran

    template <class Self, class Field>
    static void fields(Self& s, Field&& f) {
        f("report", s.report);
        f("end_reason", s.end_reason);
        f("exit_status", s.exit_status);
        f("received", s.received);
        f("unique", s.unique);
        f("published", s.published);
        f("confirmed", s.confirmed);
        f("share_group", s.share_group);
        f("run", s.run);
        f("merged_as", s.merged_as);
        f("shard", s.shard);
        f("host", s.host);
        f("command", s.command);
    }
};

// One consumer of a fan-out merge: an independent subscriber, or a share group's members
// together, judged on its own ledger as if it had been the run's only consumer.
struct Consumer {
    std::string reports;  // its report files, comma-separated
    std::string rule;     // "independent" or "share group G"
    std::uint64_t unique{}, expected{}, missing{}, duplicates{};
    std::int64_t p50_us{}, p99_us{};  // its end-to-end latency
    bool verified{false};
    std::vector<std::string> failed_checks;
    std::vector<Gap> gaps;

    template <class Self, class Field>
    static void fields(Self& s, Field&& f) {
        f("reports", s.reports);
        f("rule", s.rule);
        f("unique", s.unique);
        f("expected", s.expected);
        f("missing", s.missing);
        f("duplicates", s.duplicates);
        f("p50_us", s.p50_us);
        f("p99_us", s.p99_us);
        f("verified", s.verified);
        f("failed_checks", s.failed_checks);
        f("gaps", s.gaps);
    }
};

// --check-retained: the broker's last value of each device, checked after the run.
struct Retained {
    std::uint64_t devices{}, current{}, stale{}, missing{}, unreadable{};
    std::vector<std::string> examples;

    template <class Self, class Field>
    static void fields(Self& s, Field&& f) {
        f("devices", s.devices);
        f("current", s.current);
        f("stale", s.stale);
        f("missing", s.missing);
        f("unreadable", s.unreadable);
        f("examples", s.examples);
    }
};
Retained retained_of(const telemetry::RetainedTotals& totals);
telemetry::RetainedTotals totals_of(const Retained& retained);

// Connection workloads (--connections, --connect-only, --reconnect-storm): how the
// connections went, and each step's time as a histogram.
struct Connections {
    std::uint64_t planned{}, connected{}, refused{}, failed{}, lost{}, reconnected{};
    std::uint64_t subscribed{}, subscribe_refused{};
    std::map<std::string, std::uint64_t> refused_by_reason;  // "not authorized (0x87)": n
    std::vector<std::string> failures;                       // the first few errors
    double connect_rate{};  // accepted CONNACKs per second, first attempt to last CONNACK
    double held_s{};        // --connect-only: how long they were held
    // By step: "resolve", "tcp", "tls", "websocket", "connack", "suback", the same with
    // "reconnect_" for attempts after a lost connection, and "outage" (loss to CONNACK).
    std::map<std::string, Latency> steps_us;

    template <class Self, class Field>
    static void fields(Self& s, Field&& f) {
        f("planned", s.planned);
        f("connected", s.connected);
        f("refused", s.refused);
        f("failed", s.failed);
        f("lost", s.lost);
        f("reconnected", s.reconnected);
        f("subscribed", s.subscribed);
        f("subscribe_refused", s.subscribe_refused);
        f("refused_by_reason", s.refused_by_reason);
        f("failures", s.failures);
        f("connect_rate", s.connect_rate);
        f("held_s", s.held_s);
        f("steps_us", s.steps_us);
    }
};
// Several processes' connections as one: counts added, histograms merged (to their buckets'
// 0.4%), the connect rates added (the processes ran side by side).
void add_connections(Connections& into, const Connections& other);

struct SubscriberReport {
    std::string program{"mqtt_subscriber"};
    bool merged{false};
    std::vector<Member> members;  // merged only
    // Merged from several consumers (fan-out) only: each judged on its own, and deliveries
    // per published message.
    std::vector<Consumer> consumers;
    std::optional<double> amplification;
    std::uint64_t received{}, unique{}, expected{};
    std::optional<std::uint64_t> missing;  // null for a share-group member: others have them
    std::optional<std::string> share_group;
    std::uint64_t duplicates{}, out_of_order{}, malformed{}, corrupt{};
    std::vector<std::string> malformed_examples, corrupt_examples;
    std::uint64_t contradictions{};
    std::vector<std::string> contradiction_examples;
    std::vector<Gap> gaps;
    DeviceCounts devices;
    std::optional<DeviceStatus> device_status;
    std::vector<SlowDevice> slowest_devices;
    std::vector<ShardLatency> latency_by_shard;          // runs of several publisher shards only
    std::vector<TransportLatency> latency_by_transport;  // as the run summaries name them
    std::vector<std::string> summaries;                  // the runs whose summary arrived
    Latency latency_us;
    double started_epoch_s{};
    std::string host, command;      // where and how it ran (empty when merged: see members)
    Json timeline = Json::array();  // rows: telemetry::SubscriberSecond
    telemetry::Thresholds thresholds;
    std::vector<std::string> failed_checks;
    bool verified{false};
    double elapsed_s{}, msgs_per_sec{};
    std::string end_reason, error;
    int exit_status{-1};  // a report that does not say is no success
    double publisher_behind_schedule_ms{};
    std::vector<Reconnect> reconnects;
    std::uint64_t recovered_by_repair{}, repair_requests{};
    std::optional<Connections> connections;  // native engine: how connecting went
    std::optional<Retained> retained;        // --check-retained
    Json state;  // the ledger, latency and summaries, for mqtt_report to merge exactly
    Json store;  // --store: what the database kept (null without one)

    bool sharing() const { return share_group.has_value(); }

    template <class Self, class Field>
    static void fields(Self& s, Field&& f) {
        f("program", s.program);
        f("merged", s.merged);
        f("members", s.members);
        f("consumers", s.consumers);
        f("amplification", s.amplification);
        f("received", s.received);
        f("unique", s.unique);
        f("expected", s.expected);
        f("missing", s.missing);
        f("share_group", s.share_group);
        f("duplicates", s.duplicates);
        f("out_of_order", s.out_of_order);
        f("malformed", s.malformed);
        f("corrupt", s.corrupt);
        f("malformed_examples", s.malformed_examples);
        f("corrupt_examples", s.corrupt_examples);
        f("contradictions", s.contradictions);
        f("contradiction_examples", s.contradiction_examples);
        f("gaps", s.gaps);
        f("devices", s.devices);
        f("device_status", s.device_status);
        f("slowest_devices", s.slowest_devices);
        f("latency_by_shard", s.latency_by_shard);
        f("latency_by_transport", s.latency_by_transport);
        f("summaries", s.summaries);
        f("latency_us", s.latency_us);
        f("started_epoch_s", s.started_epoch_s);
        f("host", s.host);
        f("command", s.command);
        f("timeline", s.timeline);
        f("thresholds", s.thresholds);
        f("failed_checks", s.failed_checks);
        f("verified", s.verified);
        f("elapsed_s", s.elapsed_s);
        f("msgs_per_sec", s.msgs_per_sec);
        f("end_reason", s.end_reason);
        f("error", s.error);
        f("exit_status", s.exit_status);
        f("publisher_behind_schedule_ms", s.publisher_behind_schedule_ms);
        f("reconnects", s.reconnects);
        f("recovered_by_repair", s.recovered_by_repair);
        f("repair_requests", s.repair_requests);
        f("connections", s.connections);
        f("retained", s.retained);
        f("state", s.state);
        f("store", s.store);
    }
};

// The ledger's counts into a subscriber report (received through devices; missing included).
void set_counts(SubscriberReport& r, const telemetry::LedgerTotals& totals);

struct Churn {
    double share{};  // of the fleet planned to drop out
    std::uint64_t planned{}, dropped{}, returned{};

    template <class Self, class Field>
    static void fields(Self& s, Field&& f) {
        f("share", s.share);
        f("planned", s.planned);
        f("dropped", s.dropped);
        f("returned", s.returned);
    }
};

// --commands: what the devices did with the commands that reached them.
struct DeviceCommands {
    std::uint64_t received{}, executed{}, executed_again{}, recognised{}, answers_sent{};
    std::uint64_t unreadable{};

    template <class Self, class Field>
    static void fields(Self& s, Field&& f) {
        f("received", s.received);
        f("executed", s.executed);
        f("executed_again", s.executed_again);
        f("recognised", s.recognised);
        f("answers_sent", s.answers_sent);
        f("unreadable", s.unreadable);
    }
};

// How far the publisher fell behind its --rate/--interval schedule.
struct ScheduleLag {
    bool paced{false};
    double requested_rate{}, achieved_rate{};
    double max_ms{}, p99_ms{}, limit_ms{};
    bool breached{false};

    template <class Self, class Field>
    static void fields(Self& s, Field&& f) {
        f("paced", s.paced);
        f("requested_rate", s.requested_rate);
        f("achieved_rate", s.achieved_rate);
        f("max_ms", s.max_ms);
        f("p99_ms", s.p99_ms);
        f("limit_ms", s.limit_ms);
        f("breached", s.breached);
    }
};

struct PublisherReport {
    std::string program{"mqtt_publisher"};
    bool merged{false};
    std::vector<Member> members;  // merged only
    std::string run;              // merged: the members' runs, comma-separated
    int qos{1};
    Json window;  // "auto" or the fixed window
    std::uint64_t final_window{};
    std::uint64_t devices{}, requested{}, published{}, confirmed{}, rejected{};
    std::uint64_t no_subscribers{};  // confirmed with reason 0x10 (MQTT 5)
    std::map<std::string, std::uint64_t> rejected_by_topic;
    std::uint64_t repaired{}, unrepairable{}, unconfirmed{};
    bool summary_sent{false}, summary_confirmed{false};
    double elapsed_s{}, msgs_per_sec{};
    std::uint64_t resumed_from{};
    std::string end_reason, error;
    int exit_status{-1};
    std::optional<std::array<int, 2>> shard;  // [I, N] of --shard I/N
    Latency puback_latency_us;
    Json latency_state;  // the PUBACK histogram, for mqtt_report to merge shards exactly
    double started_epoch_s{};
    std::string host, command;      // where and how it ran (empty when merged: see members)
    Json timeline = Json::array();  // rows: telemetry::PublisherSecond
    std::vector<Reconnect> reconnects;
    Churn churn;
    ScheduleLag schedule_lag;
    Json schedule_lag_state;                           // the lag histogram, for the merge
    std::optional<std::uint64_t> receive_maximum_cap;  // the broker's, when it capped the window
    std::optional<DeviceCommands> commands;            // --commands

    template <class Self, class Field>
    static void fields(Self& s, Field&& f) {
        f("program", s.program);
        f("merged", s.merged);
        f("members", s.members);
        f("run", s.run);
        f("qos", s.qos);
        f("window", s.window);
        f("final_window", s.final_window);
        f("devices", s.devices);
        f("requested", s.requested);
        f("published", s.published);
        f("confirmed", s.confirmed);
        f("rejected", s.rejected);
        f("no_subscribers", s.no_subscribers);
        f("rejected_by_topic", s.rejected_by_topic);
        f("repaired", s.repaired);
        f("unrepairable", s.unrepairable);
        f("unconfirmed", s.unconfirmed);
        f("summary_sent", s.summary_sent);
        f("summary_confirmed", s.summary_confirmed);
        f("elapsed_s", s.elapsed_s);
        f("msgs_per_sec", s.msgs_per_sec);
        f("resumed_from", s.resumed_from);
        f("end_reason", s.end_reason);
        f("error", s.error);
        f("exit_status", s.exit_status);
        f("shard", s.shard);
        f("puback_latency_us", s.puback_latency_us);
        f("latency_state", s.latency_state);
        f("started_epoch_s", s.started_epoch_s);
        f("host", s.host);
        f("command", s.command);
        f("timeline", s.timeline);
        f("reconnects", s.reconnects);
        f("churn", s.churn);
        f("schedule_lag", s.schedule_lag);
        f("schedule_lag_state", s.schedule_lag_state);
        f("receive_maximum_cap", s.receive_maximum_cap);
        f("commands", s.commands);
    }
};

// mqtt_commander's report: the command ledger (telemetry/command_ledger.hpp) and its verdict.
struct CommanderReport {
    std::string program{"mqtt_commander"};
    std::string run;
    std::uint64_t devices{};
    std::uint64_t sent{}, delivered{}, answered{}, answered_late{}, failed{}, lost{}, pending{};
    std::uint64_t executed_twice{}, duplicate_answers{}, out_of_order{}, unknown{};
    Latency round_trip_us, to_device_us, device_work_us, from_device_us;
    std::vector<std::string> silent_devices;  // devices with lost commands, the first few
    std::vector<Reconnect> reconnects;
    double elapsed_s{};
    double started_epoch_s{};
    Json timeline = Json::array();  // rows: telemetry::CommanderSecond
    std::string end_reason;
    std::vector<std::string> failed_checks;
    bool verified{false};
    int exit_status{-1};
    std::string host, command;  // where and how it ran (empty when merged: see members)
    bool merged{false};
    std::vector<Member> members;  // merged only

    template <class Self, class Field>
    static void fields(Self& s, Field&& f) {
        f("program", s.program);
        f("run", s.run);
        f("devices", s.devices);
        f("sent", s.sent);
        f("delivered", s.delivered);
        f("answered", s.answered);
        f("answered_late", s.answered_late);
        f("failed", s.failed);
        f("lost", s.lost);
        f("pending", s.pending);
        f("executed_twice", s.executed_twice);
        f("duplicate_answers", s.duplicate_answers);
        f("out_of_order", s.out_of_order);
        f("unknown", s.unknown);
        f("round_trip_us", s.round_trip_us);
        f("to_device_us", s.to_device_us);
        f("device_work_us", s.device_work_us);
        f("from_device_us", s.from_device_us);
        f("silent_devices", s.silent_devices);
        f("reconnects", s.reconnects);
        f("elapsed_s", s.elapsed_s);
        f("started_epoch_s", s.started_epoch_s);
        f("timeline", s.timeline);
        f("end_reason", s.end_reason);
        f("failed_checks", s.failed_checks);
        f("verified", s.verified);
        f("exit_status", s.exit_status);
        f("host", s.host);
        f("command", s.command);
        f("merged", s.merged);
        f("members", s.members);
    }
};

// JSON for every type above: each field under its name, read back by the same list.
namespace detail {
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

// What a field of type T must hold, for FieldError.
template <class T>
std::string expected_kind() {
    if constexpr (is_optional<T>::value)
        return expected_kind<typename T::value_type>() + " or null";
    else if constexpr (std::is_same_v<T, bool>)
        return "true or false";
    else if constexpr (std::is_arithmetic_v<T>)
        return "a number";
    else if constexpr (std::is_same_v<T, std::string>)
        return "a string";
    else if constexpr (std::is_same_v<T, Json>)
        return "any value";
    else if constexpr (
        requires { typename T::value_type; } && !requires { typename T::key_type; })
        return "a list";
    else
        return "an object";
}

template <class T>
void write(Json& j, const T& value) {
    j = Json::object();
    T::fields(value, [&](const char* name, const auto& field) { j[name] = field; });
}

// Reads the fields of T from j. With a Json& that may be emptied (take), fields of type Json
// (a run's state, its timeline) are moved out instead of copied: at a million devices the
// state is most of a report.
template <class T, class Doc>
void read(Doc& j, T& value) {
    if (!j.is_object()) throw FieldError("", "an object", j.type_name());
    T::fields(value, [&](const char* name, auto& field) {
        using Field = std::remove_cvref_t<decltype(field)>;
        const auto it = j.find(name);
        if (it == j.end()) return;  // an older report: the default stands
        try {
            if constexpr (std::is_same_v<Field, Json> && !std::is_const_v<Doc>)
                field = std::move(*it);
            else
                it->get_to(field);
        } catch (const FieldError& inner) {
            const std::string inside = inner.path().empty() ? "" : "." + inner.path();
            throw FieldError(name + inside, inner.expected(), inner.found());
        } catch (const nlohmann::json::exception&) {
            throw FieldError(name, expected_kind<Field>(), it->type_name());
        }
    });
}
}  // namespace detail

// Every type above: to and from JSON by its field list, found by argument-dependent lookup.
template <class T>
concept Described = requires(T& value) {
    T::fields(value, [](const char*, auto&) {});
};

template <Described T>
void to_json(Json& j, const T& value) {
    detail::write(j, value);
}

template <Described T>
void from_json(const Json& j, T& value) {
    detail::read(j, value);
}

// The same without copying the large fields: `doc` gives up its Json-typed fields to the
// result, and the report gives up its own to the JSON.
template <Described T>
T take_from_json(Json&& doc) {
    T value;
    detail::read(doc, value);
    return value;
}

template <Described T>
Json take_into_json(T value) {
    Json j = Json::object();
    T::fields(value, [&](const char* name, auto& field) { j[name] = std::move(field); });
    return j;
}

}  // namespace report

namespace telemetry {
// The thresholds a subscriber judged by, as its report lists them.
void to_json(report::Json& j, const Thresholds& t);
void from_json(const report::Json& j, Thresholds& t);
}  // namespace telemetry

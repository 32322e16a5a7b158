#include "app/subscriber.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "app/console.hpp"
#include "app/exit_status.hpp"
#include "app/output_file.hpp"
#include "app/signals.hpp"
#include "report/html_report.hpp"
#include "telemetry/latency_histogram.hpp"
#include "telemetry/payload.hpp"
#include "telemetry/report.hpp"
#include "telemetry/run_summary.hpp"
#include "telemetry/sequence_ledger.hpp"

namespace app {
namespace {

constexpr const char* kProgram = "mqtt_subscriber";
constexpr std::size_t kExamples = 5;
using Clock = std::chrono::steady_clock;

struct Reception {
    telemetry::DeliveryLedger ledger;
    telemetry::LatencyHistogram latency;         // end to end, whole run
    telemetry::LatencyHistogram latency_second;  // end to end, current second of the timeline
    std::vector<telemetry::SubscriberSecond> timeline;
    std::vector<std::string> malformed_examples;  // first few reasons, for the report
    std::vector<std::string> corrupt_examples;
    std::vector<std::string> summaries;                             // run ids whose summary arrived
    std::map<std::string, telemetry::RunProgress> progress_by_run;  // latest from each publisher
    std::optional<Clock::time_point> first_message;
    Clock::time_point last_message;
    std::string end_reason;
    std::string error;
};

double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

std::int64_t now_epoch_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

int run_subscriber(const SubscriberOptions& o) {
    install_stop_signals();
    const OutputFile report_file(kProgram, "the report file", o.output.report_file);
    const OutputFile csv_file(kProgram, "the CSV file", o.csv_file);
    const OutputFile html_file(kProgram, "the HTML file", o.html_file);
    for (const OutputFile* file : {&report_file, &csv_file, &html_file})
        if (!file->prepare()) return kUsageError;
    ProgressLine progress(kProgram, !o.output.quiet);
    Reception rx;
    const auto started = Clock::now();

    // Missing messages include those a --count promised but never delivered.
    const auto figures = [&] {
        telemetry::LedgerTotals t = rx.ledger.totals();
        if (o.count && *o.count > t.unique) {
            t.missing = std::max(t.missing, *o.count - t.unique);
            t.expected = std::max(t.expected, *o.count);
        }
        return t;
    };
    const auto elapsed = [&] {
        return rx.first_message ? seconds_between(*rx.first_message, rx.last_message) : 0.0;
    };
    // One timeline row per second: cumulative counts, the second's rate and latency.
    const auto add_timeline_row = [&](Clock::time_point now) {
        const telemetry::LedgerTotals t = rx.ledger.totals();
        const double t_s = seconds_between(started, now);
        const double prev_t = rx.timeline.empty() ? 0.0 : rx.timeline.back().t_s;
        const std::uint64_t prev_unique = rx.timeline.empty() ? 0 : rx.timeline.back().unique;
        const double dt = t_s - prev_t;
        rx.timeline.push_back({t_s, t.received, t.unique, t.missing, t.duplicates, t.corrupt,
                               dt > 0 ? static_cast<double>(t.unique - prev_unique) / dt : 0.0,
                               rx.latency_second.percentile(0.50),
                               rx.latency_second.percentile(0.99)});
        rx.latency_second.reset();
    };

    const auto finish = [&](int status) {
        progress.finish();
        // A last row for the tail of the run, unless it is too short to give a fair rate.
        const double tail = seconds_between(started, Clock::now()) -
                            (rx.timeline.empty() ? 0.0 : rx.timeline.back().t_s);
        if (rx.timeline.empty() || tail >= 0.25) add_timeline_row(Clock::now());
        const telemetry::LedgerTotals t = figures();
        const double secs = elapsed();
        const double rate = secs > 0 ? static_cast<double>(t.unique) / secs : 0.0;
        const std::vector<std::string> failed =
            telemetry::failed_checks(t, rx.latency, o.thresholds);
        if (status == kSuccess && !failed.empty()) status = kVerificationFailed;
        const bool verified = failed.empty() && status == kSuccess;
        std::printf(
            "%s: %s: received %llu, unique %llu of %llu expected, missing %llu, duplicates %llu, "
            "out of order %llu, malformed %llu, corrupt %llu in %.2f s, %.0f msg/s, latency p50 "
            "%.2f ms "
            "p99 %.2f ms max %.2f ms (%s)\n",
            kProgram, verified ? "VERIFIED" : "NOT VERIFIED",
            static_cast<unsigned long long>(t.received), static_cast<unsigned long long>(t.unique),
            static_cast<unsigned long long>(t.expected), static_cast<unsigned long long>(t.missing),
            static_cast<unsigned long long>(t.duplicates),
            static_cast<unsigned long long>(t.out_of_order),
            static_cast<unsigned long long>(t.malformed),
            static_cast<unsigned long long>(t.corrupt), secs, rate,
            static_cast<double>(rx.latency.percentile(0.5)) / 1000.0,
            static_cast<double>(rx.latency.percentile(0.99)) / 1000.0,
            static_cast<double>(rx.latency.max()) / 1000.0, rx.end_reason.c_str());
        for (const std::string& f : failed) std::printf("%s: failed: %s\n", kProgram, f.c_str());
        const auto gaps = rx.ledger.gaps(o.max_gaps);
        for (const auto& g : gaps)
            std::printf("%s: missing %s/%s seq %llu-%llu\n", kProgram, g.run.c_str(),
                        g.device.c_str(), static_cast<unsigned long long>(g.range.first),
                        static_cast<unsigned long long>(g.range.last));
        std::fflush(stdout);

        nlohmann::json gap_list = nlohmann::json::array();
        for (const auto& g : gaps)
            gap_list.push_back({{"run", g.run},
                                {"device", g.device},
                                {"first", g.range.first},
                                {"last", g.range.last},
                                {"count", g.range.last - g.range.first + 1}});
        nlohmann::json thresholds = {{"max_missing", o.thresholds.max_missing}};
        thresholds["max_duplicates"] =
            o.thresholds.max_duplicates ? nlohmann::json(*o.thresholds.max_duplicates) : nullptr;
        thresholds["max_p99_ms"] =
            o.thresholds.max_p99_ms ? nlohmann::json(*o.thresholds.max_p99_ms) : nullptr;
        const nlohmann::json report = {
            {"program", kProgram},
            {"received", t.received},
            {"unique", t.unique},
            {"expected", t.expected},
            {"missing", t.missing},
            {"duplicates", t.duplicates},
            {"out_of_order", t.out_of_order},
            {"malformed", t.malformed},
            {"corrupt", t.corrupt},
            {"malformed_examples", rx.malformed_examples},
            {"corrupt_examples", rx.corrupt_examples},
            {"gaps", gap_list},
            {"summaries", rx.summaries},
            {"latency_us", telemetry::latency_summary(rx.latency, true)},
            {"timeline", telemetry::to_json(rx.timeline)},
            {"thresholds", thresholds},
            {"failed_checks", failed},
            {"verified", verified},
            {"elapsed_s", secs},
            {"msgs_per_sec", rate},
            {"end_reason", rx.end_reason},
            {"error", rx.error},
            {"exit_status", status},
        };
        report_file.write(report.dump(2) + "\n");
        csv_file.write(telemetry::timeline_csv(rx.timeline));
        if (html_file.wanted()) html_file.write(report::render_html(nullptr, &report));
        return status;
    };

    auto client = mqtt::make_client(o.engine);
    std::uint64_t next_progress = o.output.progress_every;
    bool summary_arrived = false;
    const auto note = [&](std::vector<std::string>& examples, std::string_view topic,
                          const std::string& reason) {
        if (examples.size() < kExamples) examples.push_back(std::string(topic) + ": " + reason);
    };
    const auto report_progress = [&](Clock::time_point now) {
        const telemetry::LedgerTotals t = rx.ledger.totals();
        const double secs = seconds_between(*rx.first_message, now);
        // The current rate is the last full second's; before the first one, the average.
        const double rate = !rx.timeline.empty() ? rx.timeline.back().msgs_per_sec
                            : secs > 0           ? static_cast<double>(t.unique) / secs
                                                 : 0.0;
        // The publishers' side, from their run progress messages: sent, confirmed, and the
        // backlog of confirmed messages not yet received here.
        std::string sender;
        if (!rx.progress_by_run.empty()) {
            std::uint64_t sent = 0, confirmed = 0;
            for (const auto& [run, p] : rx.progress_by_run) {
                sent += p.published;
                confirmed += p.confirmed;
            }
            sender = fmt::format("sent {} confirmed {} backlog {} | ", sent, confirmed,
                                 confirmed > t.unique ? confirmed - t.unique : 0);
        }
        progress.update(fmt::format(
            "{}received {} unique {} | missing so far {} | duplicates {} | corrupt {} | "
            "malformed {} | {:.0f} msg/s | p99 {:.2f} ms",
            sender, t.received, t.unique, t.missing, t.duplicates, t.corrupt, t.malformed, rate,
            static_cast<double>(rx.latency.percentile(0.99)) / 1000.0));
    };
    client->on_message([&](const mqtt::Message& m) {
        const auto now = Clock::now();
        rx.last_message = now;
        if (m.topic == o.control_topic) {
            if (auto p = telemetry::decode_run_progress(m.payload)) {
                rx.progress_by_run[p->run] = *p;
                return;
            }
            auto decoded = telemetry::decode_run_summary(m.payload);
            if (!decoded.summary) {
                rx.ledger.record_malformed();
                return note(rx.malformed_examples, m.topic, decoded.error);
            }
            rx.ledger.expect(*decoded.summary);
            rx.summaries.push_back(decoded.summary->run);
            summary_arrived = true;
            progress.info(fmt::format(
                "run summary of run {}: {} published, {} confirmed{}", decoded.summary->run,
                decoded.summary->published, decoded.summary->confirmed,
                decoded.summary->interrupted ? " (publisher interrupted)" : ""));
            return;
        }
        if (!rx.first_message) rx.first_message = now;
        const auto decoded = telemetry::decode_reading(m.payload);
        if (decoded.problem == telemetry::DecodeProblem::Corrupt) {
            rx.ledger.record_corrupt();
            note(rx.corrupt_examples, m.topic, decoded.error);
        } else if (!decoded.reading) {
            rx.ledger.record_malformed();
            note(rx.malformed_examples, m.topic, decoded.error);
        } else if (rx.ledger.record(decoded.reading->run, decoded.reading->device,
                                    decoded.reading->seq) !=
                   telemetry::SequenceLedger::Outcome::Duplicate) {
            // End to end: from the (scheduled) send time in the payload to arrival here.
            const std::int64_t latency = now_epoch_us() - decoded.reading->ts_us;
            rx.latency.record(latency);
            rx.latency_second.record(latency);
        }
        if (o.output.progress_every != 0 && rx.ledger.received() >= next_progress) {
            next_progress += o.output.progress_every;
            report_progress(now);
        }
    });

    try {
        client->connect(o.connect);
        std::vector<std::string> filters = o.topics;
        filters.push_back(o.control_topic);
        client->subscribe(filters, mqtt::QoS::AtLeastOnce);
    } catch (const mqtt::Error& e) {
        print_error(kProgram, e.what());
        rx.end_reason = "broker-error";
        rx.error = e.what();
        return finish(kBrokerError);
    }
    std::string joined;
    for (const std::string& t : o.topics) joined += (joined.empty() ? "" : ", ") + t;
    progress.info(fmt::format("subscribed to {} and {} on {}:{} ({}) (ready)", joined,
                              o.control_topic, o.connect.host, o.connect.port,
                              client->protocol_description()));

    const auto idle_limit = std::chrono::duration<double>(o.idle_timeout_s);
    const Clock::time_point idle_since = Clock::now();
    Clock::time_point next_row = started + std::chrono::seconds(1);
    try {
        for (;;) {
            const auto now = Clock::now();
            if (now >= next_row) {
                add_timeline_row(now);
                next_row += std::chrono::seconds(1);
            }
            if (stop_requested()) {
                rx.end_reason = "interrupted";
                break;
            }
            if (o.count && rx.ledger.unique() >= *o.count) {
                rx.end_reason = "count";
                break;
            }
            if (summary_arrived && rx.ledger.complete()) {
                rx.end_reason = "complete";
                break;
            }
            const auto last_activity = rx.first_message || summary_arrived
                                           ? std::max(idle_since, rx.last_message)
                                           : idle_since;
            if (now - last_activity >= idle_limit) {
                rx.end_reason = "idle-timeout";
                break;
            }
            client->poll(std::chrono::milliseconds(100));
        }
    } catch (const mqtt::Error& e) {
        print_error(kProgram, e.what());
        rx.end_reason = "connection-lost";
        rx.error = e.what();
        client->disconnect();
        return finish(kBrokerError);
    }
    client->disconnect();
    return finish(stop_requested() ? kInterrupted : kSuccess);
}

}  // namespace app

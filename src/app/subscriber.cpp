#include "app/subscriber.hpp"

#include <fmt/format.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "app/console.hpp"
#include "app/exit_status.hpp"
#include "app/report_file.hpp"
#include "app/signals.hpp"
#include "telemetry/payload.hpp"
#include "telemetry/run_summary.hpp"
#include "telemetry/sequence_ledger.hpp"

namespace app {
namespace {

constexpr const char* kProgram = "mqtt_subscriber";
constexpr std::size_t kMalformedExamples = 5;
using Clock = std::chrono::steady_clock;

struct Reception {
    telemetry::DeliveryLedger ledger;
    std::vector<std::string> malformed_examples;  // first few reasons, for the report
    std::vector<std::string> summaries;           // run ids whose summary arrived
    std::optional<Clock::time_point> first_message;
    Clock::time_point last_message;
    std::string end_reason;
    std::string error;
};

double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

}  // namespace

int run_subscriber(const SubscriberOptions& o) {
    install_stop_signals();
    const ReportFile report_file(kProgram, o.output.report_file);
    if (!report_file.prepare()) return kUsageError;
    ProgressLine progress(kProgram, !o.output.quiet);
    Reception rx;

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

    const auto finish = [&](int status) {
        progress.finish();
        const telemetry::LedgerTotals t = figures();
        const double secs = elapsed();
        const double rate = secs > 0 ? static_cast<double>(t.unique) / secs : 0.0;
        const bool complete = t.missing == 0 && t.malformed == 0 && t.unique > 0;
        if (status == kSuccess && !complete) status = kVerificationFailed;
        const bool verified = complete && status == kSuccess;
        std::printf(
            "%s: %s: received %llu, unique %llu of %llu expected, missing %llu, duplicates %llu, "
            "out of order %llu, malformed %llu in %.2f s, %.0f msg/s (%s)\n",
            kProgram, verified ? "VERIFIED" : "NOT VERIFIED",
            static_cast<unsigned long long>(t.received), static_cast<unsigned long long>(t.unique),
            static_cast<unsigned long long>(t.expected), static_cast<unsigned long long>(t.missing),
            static_cast<unsigned long long>(t.duplicates),
            static_cast<unsigned long long>(t.out_of_order),
            static_cast<unsigned long long>(t.malformed), secs, rate, rx.end_reason.c_str());
        const auto gaps = rx.ledger.gaps(o.max_gaps);
        for (const auto& g : gaps)
            std::printf("%s: missing %s/%s seq %llu-%llu\n", kProgram, g.run.c_str(),
                        g.device.c_str(), static_cast<unsigned long long>(g.range.first),
                        static_cast<unsigned long long>(g.range.last));
        std::fflush(stdout);
        {
            nlohmann::json gap_list = nlohmann::json::array();
            for (const auto& g : gaps)
                gap_list.push_back({{"run", g.run},
                                    {"device", g.device},
                                    {"first", g.range.first},
                                    {"last", g.range.last},
                                    {"count", g.range.last - g.range.first + 1}});
            report_file.write({
                {"program", kProgram},
                {"received", t.received},
                {"unique", t.unique},
                {"expected", t.expected},
                {"missing", t.missing},
                {"duplicates", t.duplicates},
                {"out_of_order", t.out_of_order},
                {"malformed", t.malformed},
                {"malformed_examples", rx.malformed_examples},
                {"gaps", gap_list},
                {"summaries", rx.summaries},
                {"verified", verified},
                {"elapsed_s", secs},
                {"msgs_per_sec", rate},
                {"end_reason", rx.end_reason},
                {"error", rx.error},
                {"exit_status", status},
            });
        }
        return status;
    };

    auto client = mqtt::make_client(o.engine);
    std::uint64_t next_progress = o.output.progress_every;
    bool summary_arrived = false;
    const auto note_malformed = [&](std::string_view topic, const std::string& reason) {
        rx.ledger.record_malformed();
        if (rx.malformed_examples.size() < kMalformedExamples)
            rx.malformed_examples.push_back(std::string(topic) + ": " + reason);
    };
    client->on_message([&](const mqtt::Message& m) {
        const auto now = Clock::now();
        rx.last_message = now;
        if (m.topic == o.control_topic) {
            auto decoded = telemetry::decode_run_summary(m.payload);
            if (!decoded.summary) return note_malformed(m.topic, decoded.error);
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
        auto decoded = telemetry::decode_reading(m.payload);
        if (!decoded.reading) return note_malformed(m.topic, decoded.error);
        rx.ledger.record(decoded.reading->run, decoded.reading->device, decoded.reading->seq);
        if (o.output.progress_every != 0 && rx.ledger.received() >= next_progress) {
            next_progress += o.output.progress_every;
            const telemetry::LedgerTotals t = rx.ledger.totals();
            const double secs = seconds_between(*rx.first_message, now);
            progress.update(
                fmt::format("received {} unique {} missing so far {} duplicates {} out of order {} "
                            "malformed {} | {:.0f} msg/s",
                            t.received, t.unique, t.missing, t.duplicates, t.out_of_order,
                            t.malformed, secs > 0 ? static_cast<double>(t.unique) / secs : 0.0));
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
    Clock::time_point idle_since = Clock::now();
    try {
        for (;;) {
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
            if (Clock::now() - last_activity >= idle_limit) {
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

#include "app/publisher.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <random>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "app/console.hpp"
#include "app/exit_status.hpp"
#include "app/output_file.hpp"
#include "app/signals.hpp"
#include "sim/rate_pacer.hpp"
#include "sim/sensor_model.hpp"
#include "telemetry/latency_histogram.hpp"
#include "telemetry/payload.hpp"
#include "telemetry/report.hpp"
#include "telemetry/run_summary.hpp"

namespace app {
namespace {

constexpr const char* kProgram = "mqtt_publisher";
using Clock = std::chrono::steady_clock;

std::string random_run_id() {
    std::random_device rd;
    return fmt::format("{:08x}", rd());
}

std::string expand_topic(const std::string& pattern, const std::string& device) {
    std::string topic = pattern;
    for (auto pos = topic.find("{device}"); pos != std::string::npos;
         pos = topic.find("{device}", pos))
        topic.replace(pos, 8, device);
    return topic;
}

std::int64_t to_epoch_us(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

struct Counters {
    std::uint64_t published{0};
    std::uint64_t confirmed{0};
    std::uint64_t rejected{0};  // acknowledged with a failure reason code (MQTT 5)
    std::uint8_t first_rejection{0};
    bool summary_sent{false};
    bool summary_confirmed{false};
    std::string end_reason{"complete"};
    std::string error;
    telemetry::LatencyHistogram puback;         // publish -> PUBACK/PUBCOMP, whole run
    telemetry::LatencyHistogram puback_second;  // the same, current second of the timeline
    std::vector<telemetry::PublisherSecond> timeline;
};

nlohmann::json make_report(const PublisherOptions& o, const std::string& run_id, const Counters& c,
                           double elapsed_s, int exit_status) {
    return {
        {"program", kProgram},
        {"run", run_id},
        {"qos", o.qos},
        {"devices", o.devices},
        {"requested", o.count},
        {"published", c.published},
        {"confirmed", c.confirmed},
        {"rejected", c.rejected},
        {"unconfirmed", c.published - c.confirmed - c.rejected},
        {"summary_sent", c.summary_sent},
        {"summary_confirmed", c.summary_confirmed},
        {"elapsed_s", elapsed_s},
        {"msgs_per_sec", elapsed_s > 0 ? static_cast<double>(c.confirmed) / elapsed_s : 0.0},
        {"end_reason", c.end_reason},
        {"error", c.error},
        {"exit_status", exit_status},
        {"puback_latency_us", telemetry::latency_summary(c.puback, true)},
        {"timeline", telemetry::to_json(c.timeline)},
    };
}

}  // namespace

int run_publisher(const PublisherOptions& o) {
    install_stop_signals();
    const OutputFile report_file(kProgram, "the report file", o.output.report_file);
    const OutputFile csv_file(kProgram, "the CSV file", o.csv_file);
    if (!report_file.prepare() || !csv_file.prepare()) return kUsageError;
    ProgressLine progress(kProgram, !o.output.quiet);
    const std::string run_id = o.run_id.empty() ? random_run_id() : o.run_id;
    const auto qos = static_cast<mqtt::QoS>(o.qos);

    Counters c;
    const auto started = Clock::now();
    std::size_t in_flight_now = 0;  // refreshed by the loops, read by the timeline
    // One timeline row per second: cumulative counts, the second's rate and PUBACK latency.
    const auto add_timeline_row = [&] {
        const double t_s = std::chrono::duration<double>(Clock::now() - started).count();
        const double prev_t = c.timeline.empty() ? 0.0 : c.timeline.back().t_s;
        const std::uint64_t prev = c.timeline.empty() ? 0 : c.timeline.back().confirmed;
        const double dt = t_s - prev_t;
        c.timeline.push_back({t_s, c.published, c.confirmed, in_flight_now,
                              dt > 0 ? static_cast<double>(c.confirmed - prev) / dt : 0.0,
                              c.puback_second.percentile(0.50), c.puback_second.percentile(0.99)});
        c.puback_second.reset();
    };
    const auto elapsed_s = [&] {
        return std::chrono::duration<double>(Clock::now() - started).count();
    };
    const auto finish = [&](int status) {
        progress.finish();
        const double secs = elapsed_s();
        std::printf("%s: run %s: published %llu, confirmed %llu (QoS %d) in %.2f s, %.0f msg/s%s\n",
                    kProgram, run_id.c_str(), static_cast<unsigned long long>(c.published),
                    static_cast<unsigned long long>(c.confirmed), o.qos, secs,
                    secs > 0 ? static_cast<double>(c.confirmed) / secs : 0.0,
                    status == kInterrupted ? " (interrupted)" : "");
        std::fflush(stdout);
        // A last row for the tail of the run, unless it is too short to give a fair rate.
        if (c.timeline.empty() || secs - c.timeline.back().t_s >= 0.25) add_timeline_row();
        report_file.write(make_report(o, run_id, c, secs, status).dump(2) + "\n");
        csv_file.write(telemetry::timeline_csv(c.timeline));
        return status;
    };

    auto client = mqtt::make_client(o.engine);
    std::optional<mqtt::PublishId> summary_id;
    // Control messages (run progress, run summary) in flight: their confirmations are not
    // telemetry confirmations.
    std::unordered_set<mqtt::PublishId> control_ids;
    // When each in-flight QoS 1/2 message was handed over, by packet identifier.
    std::vector<Clock::time_point> sent_at(65536);
    client->on_confirmed([&](mqtt::PublishId id, std::uint8_t reason) {
        const bool accepted = reason < 0x80;
        if (control_ids.erase(id) != 0) {
            if (summary_id && id == *summary_id) c.summary_confirmed = accepted;
        } else if (accepted) {
            ++c.confirmed;
            if (qos != mqtt::QoS::AtMostOnce) {
                const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                                    Clock::now() - sent_at[id % 65536])
                                    .count();
                c.puback.record(us);
                c.puback_second.record(us);
            }
        } else {
            // MQTT 5 brokers say why they refuse a message (0x87 not authorised, 0x97 quota
            // exceeded): such a message is acknowledged but not accepted.
            if (c.rejected++ == 0) c.first_rejection = reason;
        }
    });

    try {
        client->connect(o.connect);
    } catch (const mqtt::Error& e) {
        print_error(kProgram, e.what());
        c.end_reason = "broker-error";
        c.error = e.what();
        return finish(kBrokerError);
    }
    progress.info(fmt::format(
        "connected to {}:{} ({}), run {}, {} messages from {} devices at QoS {}", o.connect.host,
        o.connect.port, client->protocol_description(), run_id, o.count, o.devices, o.qos));

    sim::DeviceFleet fleet(o.device_prefix, o.devices, o.seed, run_id);
    std::vector<std::string> topics;
    for (const auto& d : fleet.devices()) topics.push_back(expand_topic(o.topic, d.id));

    const auto sys_start = std::chrono::system_clock::now();
    const auto steady_start = Clock::now();
    sim::RatePacer pacer(o.rate, steady_start);
    std::string payload;
    std::uint64_t next_progress = o.output.progress_every;
    const auto report_progress = [&] {
        const double secs = elapsed_s();
        // The current rate is the last full second's; before the first one, the average.
        const double rate = !c.timeline.empty() ? c.timeline.back().msgs_per_sec
                            : secs > 0          ? static_cast<double>(c.confirmed) / secs
                                                : 0.0;
        const std::string eta =
            rate > 0 && c.confirmed < o.count
                ? fmt::format(" | ETA {:.0f} s", static_cast<double>(o.count - c.confirmed) / rate)
                : "";
        progress.update(
            fmt::format("sent {} confirmed {} in flight {} | {:.0f} msg/s | PUBACK p99 {:.2f} ms{}",
                        c.published, c.confirmed, client->in_flight(), rate,
                        static_cast<double>(c.puback.percentile(0.99)) / 1000.0, eta));
    };
    Clock::time_point next_row = started + std::chrono::seconds(1);
    // Once a second: a timeline row, and the run's progress on the control topic so that
    // consumers can show the backlog between the two sides (skipped while the window is full).
    const auto maybe_timeline_row = [&] {
        in_flight_now = client->in_flight();
        if (Clock::now() < next_row) return;
        add_timeline_row();
        next_row += std::chrono::seconds(1);
        const std::string progress_payload =
            telemetry::encode_run_progress({run_id, c.published, c.confirmed});
        if (auto id = client->publish(o.control_topic, progress_payload, mqtt::QoS::AtLeastOnce))
            control_ids.insert(*id);
    };

    try {
        while (c.published < o.count && !stop_requested()) {
            const std::uint64_t due = std::min(o.count, pacer.due_by(Clock::now()));
            while (c.published < due && client->in_flight() < client->window()) {
                // With --rate, stamp the scheduled send time, so a stall shows as latency.
                const std::int64_t ts =
                    pacer.paced()
                        ? to_epoch_us(
                              sys_start +
                              std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                  pacer.due_time(c.published) - steady_start))
                        : to_epoch_us(std::chrono::system_clock::now());
                const std::size_t device_index = c.published % o.devices;
                const telemetry::Reading& r = fleet.next(ts);
                telemetry::encode_reading(r, payload);
                const auto id = client->publish(topics[device_index], payload, qos);
                if (!id)
                    throw mqtt::Error(mqtt::ErrorKind::Protocol,
                                      "publish refused with room in the window");
                if (qos != mqtt::QoS::AtMostOnce) sent_at[*id % 65536] = Clock::now();
                ++c.published;
            }
            std::chrono::milliseconds wait{0};
            if (c.published < o.count && client->in_flight() < client->window() && pacer.paced()) {
                const auto until = pacer.due_time(c.published) - Clock::now();
                wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(until),
                                  std::chrono::milliseconds(0), std::chrono::milliseconds(100));
            } else if (client->in_flight() >= client->window()) {
                wait = std::chrono::milliseconds(100);
            }
            client->poll(wait);
            maybe_timeline_row();
            if (o.output.progress_every != 0 && c.confirmed >= next_progress) {
                report_progress();
                next_progress =
                    (c.confirmed / o.output.progress_every + 1) * o.output.progress_every;
            }
        }

        // Await outstanding confirmations, bounded so a silent broker cannot hang us.
        const auto drain_deadline =
            Clock::now() + std::chrono::milliseconds(static_cast<long>(o.drain_timeout_s * 1000));
        while (client->in_flight() > 0 && Clock::now() < drain_deadline) {
            client->poll(std::chrono::milliseconds(100));
            maybe_timeline_row();
        }

        // The run summary tells the consumer exactly what to expect.
        telemetry::RunSummary summary{run_id,           o.qos, c.published, c.confirmed,
                                      stop_requested(), {}};
        for (const auto& d : fleet.devices())
            if (d.last_seq > 0) summary.devices.push_back({d.id, d.last_seq, d.last_seq});
        const std::string summary_payload = telemetry::encode_run_summary(summary);
        summary_id = client->publish(o.control_topic, summary_payload, mqtt::QoS::AtLeastOnce);
        c.summary_sent = summary_id.has_value();
        if (summary_id) control_ids.insert(*summary_id);
        const auto summary_deadline = Clock::now() + std::chrono::seconds(5);
        while (c.summary_sent && !c.summary_confirmed && Clock::now() < summary_deadline)
            client->poll(std::chrono::milliseconds(100));
    } catch (const mqtt::Error& e) {
        print_error(kProgram, e.what());
        c.end_reason = "connection-lost";
        c.error = e.what();
        return finish(kBrokerError);
    }
    client->disconnect();
    if (o.output.progress_every != 0) report_progress();

    if (stop_requested()) {
        c.end_reason = "interrupted";
        return finish(kInterrupted);
    }
    if (c.rejected > 0) {
        c.end_reason = "rejected";
        print_error(kProgram,
                    fmt::format("the broker refused {} of {} messages (first reason code 0x{:02x})",
                                c.rejected, c.published, c.first_rejection));
        return finish(kVerificationFailed);
    }
    if (c.confirmed < c.published) {
        c.end_reason = "unconfirmed";
        print_error(kProgram,
                    fmt::format("{} of {} messages were not confirmed within {} s",
                                c.published - c.confirmed, c.published, o.drain_timeout_s));
        return finish(kVerificationFailed);
    }
    return finish(kSuccess);
}

}  // namespace app

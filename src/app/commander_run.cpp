#include "app/commander_run.hpp"

#include <fmt/format.h>

#include <cmath>
#include <optional>
#include <random>

#include "app/exit_status.hpp"
#include "app/fleet_profile.hpp"
#include "app/metrics_output.hpp"
#include "app/output_file.hpp"
#include "app/signals.hpp"
#include "net/event_loop.hpp"
#include "report/html_report.hpp"
#include "sim/sensor_model.hpp"
#include "telemetry/command.hpp"
#include "telemetry/splitmix64.hpp"

namespace app {
namespace {

constexpr auto kCommanderPoll = std::chrono::milliseconds(100);

}  // namespace

CommanderRun::CommanderRun(const CommanderOptions& options, CommandTargets targets,
                           mqtt::Client& client, ProgressLine& progress,
                           StopRequested stop_requested)
    : options_(options),
      targets_(std::move(targets)),
      client_(client),
      progress_(progress),
      stop_requested_(std::move(stop_requested)),
      run_id_(options.run_id.empty() ? random_run_id() : options.run_id),
      reply_topic_(replace_all(options.reply_topic, "{run}", run_id_)),
      ledger_(std::chrono::microseconds(
          static_cast<std::int64_t>(options.command_timeout_s * 1'000'000))),
      pacer_(options.rate, Clock::now()),
      started_(Clock::now()),
      next_progress_(options.output.progress_every),
      reconnects_(progress, started_, !options.connect.clean_session),
      timeline_(started_) {
    client_.on_message([this](const mqtt::Message& m) { on_message(m); });
    client_.on_reconnected([this](const mqtt::Reconnection& r) { reconnects_.record(r); });
}

int CommanderRun::run() {
    try {
        connect();
    } catch (const mqtt::Error& e) {
        print_error(kCommanderProgram, e.what());
        return finish("broker-error", {{"the connection", kBrokerError, "broker-error", true}});
    }
    try {
        while (sent_ < options_.count && !stop_requested_()) {
            send_due();
            client_.poll(until_next_due());
            tick();
        }
        await_answers();
    } catch (const mqtt::Error& e) {
        print_error(kCommanderProgram, e.what());
        return finish("connection-lost",
                      {{"the connection", kBrokerError, "connection-lost", true}});
    }
    client_.disconnect();
    if (stop_requested_()) return finish("interrupted", {{"the run", kInterrupted, "interrupted"}});
    return finish("complete", {});
}

void CommanderRun::connect() {
    client_.connect(options_.connect);
    client_.subscribe({reply_topic_}, mqtt::QoS::AtLeastOnce);
    progress_.info(
        fmt::format("connected to {}:{} ({}), run {}: {} commands to {} devices at "
                    "{:g}/s, answers on {}",
                    options_.connect.host, options_.connect.port, client_.protocol_description(),
                    run_id_, options_.count, targets_.size(), options_.rate, reply_topic_));
    started_ = Clock::now();
    wall_start_ = std::chrono::system_clock::now();
    pacer_ = sim::RatePacer(options_.rate, started_);
    timeline_ = telemetry::Timeline<telemetry::CommanderSecond>(started_);
}

void CommanderRun::send_due() {
    const std::uint64_t due = std::min(options_.count, pacer_.due_by(Clock::now()));
    while (sent_ < due && send(sent_, pacer_.due_time(sent_))) ++sent_;
}

std::chrono::microseconds CommanderRun::until_next_due() const {
    // Wake when the next command is due: a late send would count as the device's latency.
    if (sent_ >= options_.count || client_.in_flight() >= client_.window()) return kCommanderPoll;
    const auto until = pacer_.due_time(sent_) - Clock::now();
    if (until <= Clock::duration::zero()) return std::chrono::microseconds(0);
    return std::min<std::chrono::microseconds>(std::chrono::ceil<std::chrono::microseconds>(until),
                                               kCommanderPoll);
}

bool CommanderRun::send(std::uint64_t k, Clock::time_point due) {
    const CommandTarget target = targets_.at(k % targets_.size());
    telemetry::Command c;
    c.run = run_id_;
    c.id = k + 1;
    c.device = target.id;
    c.seq = k / targets_.size() + 1;
    // Open loop: the time it was due, so that a commander that falls behind shows as latency.
    c.sent_us = epoch_us(wall_start_ +
                         std::chrono::duration_cast<std::chrono::microseconds>(due - started_));
    c.name = options_.name;
    c.reply_to = reply_topic_;
    const std::string topic =
        expand_device_template(options_.command_topic, c.device, target.n, target.group);
    const std::string correlation = std::to_string(c.id);
    // Over MQTT 3.1.1 (no properties) the devices answer on the command's reply_to.
    const mqtt::Correlation properties =
        client_.speaks_mqtt5() ? mqtt::Correlation{reply_topic_, correlation} : mqtt::Correlation{};
    if (!client_.publish_correlated(topic, telemetry::encode_command(c), mqtt::QoS::AtLeastOnce,
                                    properties))
        return false;
    ledger_.sent(c, due);
    return true;
}

void CommanderRun::on_message(const mqtt::Message& m) {
    std::string error;
    const auto answer = telemetry::decode_answer(m.payload, error);
    if (!answer) {
        if (unreadable_++ == 0)
            progress_.warn(fmt::format("an answer on {} is unreadable: {}", m.topic, error));
        return;
    }
    if (answer->run != run_id_) return;  // another run's
    ledger_.answered(*answer, Clock::now(), epoch_us(std::chrono::system_clock::now()));
}

void CommanderRun::await_answers() {
    // Until every command has its final answer, or the last one's timeout has passed.
    const auto timeout = std::chrono::microseconds(
        static_cast<std::int64_t>(options_.command_timeout_s * 1'000'000));
    const auto until = Clock::now() + timeout;
    while (!ledger_.settled() && Clock::now() < until && !stop_requested_()) {
        client_.poll(kCommanderPoll);
        tick();
    }
}

void CommanderRun::tick() {
    const auto now = Clock::now();
    if (timeline_.due(now)) add_timeline_row(now);
    show_progress();
}

void CommanderRun::add_timeline_row(Clock::time_point now) {
    telemetry::CommanderSecond row;
    row.sent = sent_;
    row.delivered = ledger_.delivered();
    row.answered = ledger_.answered();
    row.waiting = sent_ - std::min(sent_, row.answered);
    const telemetry::LatencyHistogram second = ledger_.take_second_round_trip();
    row.round_trip_p50_us = second.percentile(0.50);
    row.round_trip_p99_us = second.percentile(0.99);
    timeline_.add(now, row.answered, row);
}

void CommanderRun::write_metrics(metrics::Exposition& out) const {
    const telemetry::CommandTotals t = ledger_.totals(Clock::now());
    out.counter("mqtt_commander_sent_total", "Commands sent", t.sent);
    out.counter("mqtt_commander_delivered_total", "Commands their device said it got", t.delivered);
    out.counter("mqtt_commander_answered_total", "Commands with a final answer (ok or failed)",
                t.answered);
    out.counter("mqtt_commander_failed_total", "Commands their device failed", t.failed);
    out.counter("mqtt_commander_answered_late_total", "Final answers after --command-timeout",
                t.answered_late);
    out.counter("mqtt_commander_executed_twice_total", "Commands a device executed more than once",
                t.executed_twice);
    out.counter("mqtt_commander_out_of_order_total",
                "Final answers that came before an earlier command's of the same device",
                t.out_of_order);
    out.gauge("mqtt_commander_lost", "Commands without a final answer past their timeout",
              static_cast<double>(t.lost));
    out.gauge("mqtt_commander_pending", "Commands waiting for their final answer",
              static_cast<double>(t.pending));
    out.gauge("mqtt_commander_connected", "1 while connected to the broker",
              client_.connected() ? 1 : 0);
    out.histogram("mqtt_commander_round_trip_seconds", "A command's schedule to its final answer",
                  ledger_.round_trip());
    out.histogram("mqtt_commander_to_device_seconds",
                  "A command's schedule to its device's receipt", ledger_.to_device());
    out.histogram("mqtt_commander_device_work_seconds", "The device's receipt to its final answer",
                  ledger_.device_work());
    out.histogram("mqtt_commander_from_device_seconds",
                  "The device's final answer to its arrival here", ledger_.from_device());
}

void CommanderRun::show_progress() {
    const std::uint64_t every = options_.output.progress_every;
    if (every == 0 || ledger_.answered() < next_progress_) return;
    const telemetry::CommandTotals t = ledger_.totals(Clock::now());
    next_progress_ = (t.answered / every + 1) * every;
    progress_.update(
        fmt::format("sent {} delivered {} answered {} late {} failed {} | p99 {:.2f} ms", t.sent,
                    t.delivered, t.answered, t.answered_late, t.failed,
                    static_cast<double>(ledger_.round_trip().percentile(0.99)) / 1000));
}

}  // namespace app

namespace app {

std::vector<std::string> CommanderRun::failed_checks(const telemetry::CommandTotals& t) const {
    std::vector<std::string> checks;
    if (t.lost > options_.max_lost) {
        const auto silent = ledger_.silent_devices(Clock::now(), 5);
        std::string names;
        for (const std::string& s : silent) names += (names.empty() ? "" : ", ") + s;
        checks.push_back(fmt::format("lost {} > --max-lost-commands {}: no final answer from {}",
                                     t.lost, options_.max_lost, names));
    }
    if (t.executed_twice > options_.max_executed_twice)
        checks.push_back(fmt::format("executed twice {} > --max-duplicate-executions {}",
                                     t.executed_twice, options_.max_executed_twice));
    if (t.answered_late > 0)
        checks.push_back(fmt::format("answered late {} (after --command-timeout {:g} s)",
                                     t.answered_late, options_.command_timeout_s));
    if (t.unknown > 0)
        checks.push_back(fmt::format("{} answers to commands this run never sent", t.unknown));
    const double p99_ms = static_cast<double>(ledger_.round_trip().percentile(0.99)) / 1000;
    if (options_.max_p99_ms > 0 && p99_ms > options_.max_p99_ms)
        checks.push_back(fmt::format("round trip p99 {:.2f} ms > --max-command-p99-ms {:g}", p99_ms,
                                     options_.max_p99_ms));
    if (t.sent == 0) checks.push_back("no command was sent");
    return checks;
}

int CommanderRun::finish(const std::string& end_reason,
                         const std::vector<telemetry::Ending>& endings) {
    const telemetry::CommandTotals t = ledger_.totals(Clock::now());
    const telemetry::Verdict verdict = telemetry::judge(failed_checks(t), endings);
    report::CommanderReport& r = report_;
    r.run = run_id_;
    r.devices = targets_.size();
    r.sent = t.sent;
    r.delivered = t.delivered;
    r.answered = t.answered;
    r.answered_late = t.answered_late;
    r.failed = t.failed;
    r.lost = t.lost;
    r.pending = t.pending;
    r.executed_twice = t.executed_twice;
    r.duplicate_answers = t.duplicate_answers;
    r.out_of_order = t.out_of_order;
    r.unknown = t.unknown;
    r.round_trip_us = report::summarize(ledger_.round_trip());
    r.to_device_us = report::summarize(ledger_.to_device());
    r.device_work_us = report::summarize(ledger_.device_work());
    r.from_device_us = report::summarize(ledger_.from_device());
    r.silent_devices = ledger_.silent_devices(Clock::now(), 10);
    r.reconnects = reconnects_.rows();
    if (timeline_.tail_due(Clock::now())) add_timeline_row(Clock::now());
    r.timeline = telemetry::to_json(timeline_.rows());
    r.started_epoch_s = timeline_.started_epoch_s();
    r.elapsed_s = std::chrono::duration<double>(Clock::now() - started_).count();
    r.end_reason = end_reason;
    r.failed_checks = verdict.failed;
    r.verified = verdict.verified();
    r.exit_status = verdict.exit_status;
    r.command = options_.output.command;
    r.host = host_name();
    progress_.finish();
    std::printf(
        "%s: %s: sent %llu, delivered %llu, answered %llu (failed %llu), late %llu, lost "
        "%llu, executed twice %llu, out of order %llu in %.2f s; round trip p50 %.2f ms "
        "p99 %.2f ms\n",
        kCommanderProgram, verdict.verified() ? "VERIFIED" : "NOT VERIFIED",
        static_cast<unsigned long long>(t.sent), static_cast<unsigned long long>(t.delivered),
        static_cast<unsigned long long>(t.answered), static_cast<unsigned long long>(t.failed),
        static_cast<unsigned long long>(t.answered_late), static_cast<unsigned long long>(t.lost),
        static_cast<unsigned long long>(t.executed_twice),
        static_cast<unsigned long long>(t.out_of_order), r.elapsed_s,
        static_cast<double>(r.round_trip_us.p50) / 1000,
        static_cast<double>(r.round_trip_us.p99) / 1000);
    for (const std::string& f : verdict.failed)
        std::printf("%s: failed: %s\n", kCommanderProgram, f.c_str());
    std::fflush(stdout);
    return verdict.exit_status;
}

CommandTarget CommandTargets::at(std::uint64_t i) const {
    if (!listed_.empty()) return listed_[i];
    return {sim::device_id(prefix_, i + 1), i + 1, ""};
}

namespace {

std::vector<CommandTarget> profile_targets(const CommanderOptions& o,
                                           const std::vector<DeviceGroup>& groups) {
    std::vector<CommandTarget> all;
    std::string names;
    for (const DeviceGroup& g : groups) {
        names += (names.empty() ? "" : ", ") + g.name;
        if (!o.group.empty() && g.name != o.group) continue;
        for (std::uint64_t n = 1; n <= g.devices; ++n)
            all.push_back({sim::device_id(g.id_prefix, n), n, g.name});
    }
    if (all.empty())
        throw std::runtime_error(
            fmt::format("--group {}: {} has the groups {}", o.group, o.profile, names));
    return all;
}

}  // namespace

CommandTargets command_targets(const CommanderOptions& o,
                               const std::vector<DeviceGroup>& profile_groups) {
    CommandTargets all = o.profile.empty() ? CommandTargets(o.device_prefix, o.devices)
                                           : CommandTargets(profile_targets(o, profile_groups));
    if (o.sample >= 1.0) return all;
    std::vector<CommandTarget> sample;
    for (std::uint64_t i = 0; i < all.size(); ++i) {
        CommandTarget t = all.at(i);
        telemetry::SplitMix64 draw(o.seed ^ std::hash<std::string>{}(t.id));
        if (draw.uniform() < o.sample) sample.push_back(std::move(t));
    }
    if (sample.empty())
        throw std::runtime_error(
            fmt::format("--sample {:g} of {} devices is none of them", o.sample, all.size()));
    return CommandTargets(std::move(sample));
}

int run_commander(const CommanderOptions& options) {
    install_stop_signals();
    const OutputFile report_file(kCommanderProgram, "the report file", options.output.report_file);
    if (!report_file.prepare()) return kUsageError;
    std::optional<CommandTargets> targets;
    try {
        targets = command_targets(options, options.profile.empty()
                                               ? std::vector<DeviceGroup>{}
                                               : load_fleet_profile(options.profile).groups);
    } catch (const std::runtime_error& e) {  // ProfileError too
        print_error(kCommanderProgram, e.what());
        return kUsageError;
    }
    // --every and --duration in rate and count, once the devices are known.
    CommanderOptions paced = options;
    if (options.every_s > 0) paced.rate = static_cast<double>(targets->size()) / options.every_s;
    if (options.duration_s > 0)
        paced.count = std::max<std::uint64_t>(
            1, static_cast<std::uint64_t>(std::llround(paced.rate * options.duration_s)));
    warn_about_connection(kCommanderProgram, options.connect);
    ProgressLine progress(kCommanderProgram, !options.output.quiet);
    const OutputFile csv_file(kCommanderProgram, "the CSV file", options.csv_file);
    const OutputFile html_file(kCommanderProgram, "the HTML file", options.html_file);
    if (!csv_file.prepare() || !html_file.prepare()) return kUsageError;
    net::EventLoop loop;  // the client's, and the metrics endpoint's
    const auto client = mqtt::make_client(options.engine, loop);
    CommanderRun run(paced, std::move(*targets), *client, progress, stop_requested);
    MetricsOutput metrics(kCommanderProgram, paced.output);
    if (!metrics.start(loop, progress,
                       [&run](metrics::Exposition& out) { run.write_metrics(out); }))
        return kUsageError;
    const int status = run.run();
    csv_file.write(run.timeline_csv());
    if (html_file.wanted()) html_file.write(report::render_html(nullptr, nullptr, &run.report()));
    report_file.write(report::take_into_json(report::CommanderReport(run.report())).dump(2) + "\n");
    return status;
}

}  // namespace app

#include "app/subscriber_fleet.hpp"

#include <fmt/format.h>

#include <cstdio>

#include "app/exit_status.hpp"
#include "mqtt/engines.hpp"
#include "net/event_loop.hpp"
#include "report/merge.hpp"
#include "telemetry/verdict.hpp"

namespace app {
namespace {

// The loop's wait per round when nothing happens; the members' ticks follow every round.
constexpr auto kRound = std::chrono::milliseconds(100);

}  // namespace

SubscriberFleet::SubscriberFleet(const SubscriberOptions& options, net::EventLoop& loop,
                                 ProgressLine& progress,
                                 const SubscriberRun::StopRequested& stop_requested)
    : loop_(loop),
      progress_(progress),
      stats_(options.connections),
      storm_after_s_(options.reconnect_storm_s),
      flapper_(options.flap_every_s) {
    for (std::uint32_t k = 1; k <= options.connections; ++k) {
        auto m = std::make_unique<Member>();
        m->options = options;
        m->options.connections = 1;
        m->options.topics = member_topics(options, k);
        m->options.connect = member_connect(options, k);
        m->label = fmt::format("subscriber {} ({})", k, m->options.connect.client_id);
        m->client = mqtt::make_native_client(loop);
        ProgressLine* line = &progress;
        if (k > 1) {
            m->quiet = std::make_unique<ProgressLine>(kSubscriberProgram, false);
            line = m->quiet.get();
        }
        m->run = std::make_unique<SubscriberRun>(m->options, *m->client, *line, stop_requested);
        m->run->member_of_fleet(m->label, options.connections);
        SubscriberRun& run = *m->run;
        stats_.watch(*m->client);
        flapper_.add(*m->client, expand_member_template(options.flap_topic, k));
        m->client->on_failed([this, &run, label = m->label](const mqtt::Error& e) {
            stats_.failed(label + ": " + e.what());
            run.client_failed(e.what());
        });
        members_.push_back(std::move(m));
    }
}

int SubscriberFleet::run() {
    run_loop(start_all());
    std::vector<telemetry::Ending> endings;
    std::vector<report::Named<report::SubscriberReport>> reports;
    for (const auto& m : members_) {
        const int status = m->run->close();
        reports.push_back({m->label, m->run->report()});
        // A failed check is in the merged report already; an abnormal end is said here.
        endings.push_back(
            {m->label, status, reports.back().report.end_reason, status == kVerificationFailed});
    }
    try {
        merged_ = report::merge_subscribers(std::move(reports));
        merged_.connections = stats_.report();
    } catch (const std::exception& e) {
        print_error(kSubscriberProgram, e.what());
        return kVerificationFailed;
    }
    return judge_and_print(endings);
}

std::size_t SubscriberFleet::start_all() {
    // The first subscriber, the one whose lines are shown, subscribes last: its "(ready)" then
    // means that every subscriber is ready, and a publisher started on it loses no one a message.
    std::size_t running = 0;
    for (auto it = members_.rbegin(); it != members_.rend(); ++it) {
        Member& m = **it;
        m.over = !m.run->start();
        running += m.over ? 0 : 1;
    }
    progress_.info(
        fmt::format("{} of {} subscribers connected and subscribed", running, members_.size()));
    return running;
}

void SubscriberFleet::run_loop(std::size_t running) {
    const auto ready = SubscriberRun::Clock::now();
    flapper_.start(ready);
    while (running > 0) {
        loop_.run_once(kRound);
        const auto now = SubscriberRun::Clock::now();
        flapper_.tick(now);
        if (storm_after_s_ &&
            std::chrono::duration<double>(now - ready).count() >= *storm_after_s_) {
            storm_after_s_.reset();
            storm();
        }
        for (const auto& m : members_)
            if (!m->over && m->run->after_round(now)) {
                m->over = true;
                --running;
            }
    }
}

void SubscriberFleet::storm() {
    std::size_t dropped = 0;
    for (const auto& m : members_)
        if (!m->over && m->client->vanish_for("", std::chrono::milliseconds(0))) ++dropped;
    progress_.info(fmt::format(
        "reconnect storm: {} subscriber connections dropped at once without DISCONNECT", dropped));
}

int SubscriberFleet::judge_and_print(const std::vector<telemetry::Ending>& endings) {
    const telemetry::Verdict verdict =
        telemetry::judge(report::verdict(nullptr, &merged_).failed, endings);
    merged_.verified = verdict.verified();
    merged_.exit_status = verdict.exit_status;
    merged_.failed_checks = verdict.failed;
    std::FILE* out = stdout;
    std::size_t complete = 0;
    for (const report::Consumer& c : merged_.consumers) complete += c.verified ? 1 : 0;
    const char* word = verdict.verified() ? "VERIFIED" : "NOT VERIFIED";
    if (merged_.consumers.empty())  // one share group: its members split the messages
        std::fprintf(out,
                     "%s: %s: share group of %zu subscribers: unique %llu of %llu expected, "
                     "missing %llu, duplicates %llu\n",
                     kSubscriberProgram, word, members_.size(),
                     static_cast<unsigned long long>(merged_.unique),
                     static_cast<unsigned long long>(merged_.expected),
                     static_cast<unsigned long long>(merged_.missing.value_or(0)),
                     static_cast<unsigned long long>(merged_.duplicates));
    else
        std::fprintf(
            out,
            "%s: %s: %zu of %zu subscribers complete: %llu deliveries of %llu expected "
            "(amplification %.2f), missing %llu, duplicates %llu in %.2f s, %.0f "
            "deliveries/s, latency p50 %.2f ms p99 %.2f ms max %.2f ms\n",
            kSubscriberProgram, word, complete, merged_.consumers.size(),
            static_cast<unsigned long long>(merged_.unique),
            static_cast<unsigned long long>(merged_.expected), merged_.amplification.value_or(0.0),
            static_cast<unsigned long long>(merged_.missing.value_or(0)),
            static_cast<unsigned long long>(merged_.duplicates), merged_.elapsed_s,
            merged_.elapsed_s > 0 ? static_cast<double>(merged_.unique) / merged_.elapsed_s : 0.0,
            static_cast<double>(merged_.latency_us.p50) / 1000.0,
            static_cast<double>(merged_.latency_us.p99) / 1000.0,
            static_cast<double>(merged_.latency_us.max) / 1000.0);
    if (merged_.devices.outside > 0)
        std::fprintf(out, "%s: %s by any subscriber\n", kSubscriberProgram,
                     outside_text(merged_.devices.outside).c_str());
    for (const std::string& f : verdict.failed)
        std::fprintf(out, "%s: failed: %s\n", kSubscriberProgram, f.c_str());
    std::fflush(out);
    return verdict.exit_status;
}

}  // namespace app

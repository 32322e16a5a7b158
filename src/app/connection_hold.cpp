#include "app/connection_hold.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "app/exit_status.hpp"
#include "mqtt/engines.hpp"
#include "net/event_loop.hpp"
#include "telemetry/verdict.hpp"

namespace app {
namespace {

// The loop's longest wait: stop requests and the hold's end are looked at this often.
constexpr auto kHoldRound = std::chrono::milliseconds(50);
// How long connecting may take past the ramp before the hold starts without the stragglers.
constexpr auto kSettleGrace = std::chrono::seconds(30);

// The loop's wait for a deadline: at most a round, never negative.
std::chrono::microseconds wait_until(std::chrono::steady_clock::time_point when) {
    const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
        when - std::chrono::steady_clock::now());
    return std::clamp<std::chrono::microseconds>(left, std::chrono::microseconds(0), kHoldRound);
}

// The first "dropped while held" of the listed failures.
std::string first_drop(const std::vector<std::string>& listed) {
    for (const std::string& f : listed)
        if (f.find(": dropped while held: ") != std::string::npos) return f;
    return "(not listed)";
}

double ms(const report::Latency& l, std::int64_t report::Latency::*field) {
    return static_cast<double>(l.*field) / 1000.0;
}

}  // namespace

ConnectionHold::ConnectionHold(const SubscriberOptions& options, net::EventLoop& loop,
                               ProgressLine& progress, SubscriberRun::StopRequested stop_requested)
    : options_(options),
      loop_(loop),
      progress_(progress),
      stop_requested_(std::move(stop_requested)),
      stats_(options.connections),
      flapper_(options.flap_every_s) {
    for (std::uint32_t k = 1; k <= options.connections; ++k) {
        auto m = std::make_unique<Member>();
        m->connect = member_connect(options, k);
        m->label = fmt::format("connection {} ({})", k, m->connect.client_id);
        SubscriberOptions own = options;
        own.topics = member_topics(options, k);
        m->filters = telemetry_filters(own);
        m->client = mqtt::make_native_client(loop);
        stats_.watch(*m->client);
        flapper_.add(*m->client, expand_member_template(options.flap_topic, k));
        Member& member = *m;
        m->client->on_connected([&member] { member.subscribe_due = !member.subscribed; });
        m->client->on_reconnected([this, &member](const mqtt::Reconnection& r) {
            if (!r.deliberate) stats_.note(member.label + ": dropped while held: " + r.cause);
        });
        m->client->on_failed([this, &member](const mqtt::Error& e) {
            member.failed = true;
            stats_.failed(member.label + ": " + e.what());
        });
        members_.push_back(std::move(m));
    }
}

int ConnectionHold::run() {
    start_ = Clock::now();
    const auto settle_by =
        start_ +
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
            options_.connect_rate > 0 ? static_cast<double>(members_.size()) / options_.connect_rate
                                      : 0.0)) +
        kSettleGrace + options_.connect.connect_timeout;
    while (!settled() && !stop_requested_() && Clock::now() < settle_by) {
        const auto next = open_due(Clock::now());
        loop_.run_once(wait_until(next));
        subscribe_due();
        show_progress();
    }
    progress_.finish();
    progress_.info(
        fmt::format("{} of {} connections up and subscribed in {:.2f} s; holding "
                    "them {:.1f} s",
                    stats_.subscribed(), members_.size(),
                    std::chrono::duration<double>(Clock::now() - start_).count(), options_.hold_s));
    const auto held_from = Clock::now();
    flapper_.start(held_from);
    const auto until = held_from + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(options_.hold_s));
    if (options_.reconnect_storm_s) {
        hold(std::min(until,
                      held_from + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(*options_.reconnect_storm_s))));
        if (!stop_requested_()) storm();
    }
    hold(until);
    stats_.held(std::chrono::duration<double>(Clock::now() - held_from).count());
    for (const auto& m : members_) down_at_end_ += !m->failed && !m->client->connected() ? 1 : 0;
    close_all();
    return judge_and_print(stop_requested_() ? "interrupted" : "held");
}

ConnectionHold::Clock::time_point ConnectionHold::open_due(Clock::time_point now) {
    const double rate = options_.connect_rate;
    while (opened_ < members_.size()) {
        const auto due =
            start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                         rate > 0 ? static_cast<double>(opened_) / rate : 0.0));
        if (due > now) return due;
        Member& m = *members_[opened_++];
        m.opened = true;
        try {
            m.client->start_connect(m.connect);
        } catch (const mqtt::Error& e) {
            m.failed = true;
            stats_.failed(m.label + ": " + e.what());
        }
    }
    return now + kHoldRound;
}

void ConnectionHold::subscribe_due() {
    for (const auto& m : members_) {
        if (!m->subscribe_due || m->failed) continue;
        m->subscribe_due = false;
        m->subscribed = true;  // asked; the SUBACK's answer is counted by the stats
        if (m->filters.empty()) continue;
        try {
            m->client->start_subscribe(m->filters, static_cast<mqtt::QoS>(options_.qos));
        } catch (const mqtt::Error& e) {
            m->failed = true;
            stats_.failed(m->label + ": " + e.what());
        }
    }
}

bool ConnectionHold::settled() const {
    if (opened_ < members_.size()) return false;
    std::uint64_t failed = 0;
    for (const auto& m : members_) failed += m->failed ? 1 : 0;
    const bool subscribing = !members_.empty() && !members_.front()->filters.empty();
    const std::uint64_t done = subscribing ? stats_.subscribed() : stats_.first_connects();
    return done + failed >= members_.size();
}

void ConnectionHold::hold(Clock::time_point until) {
    while (!stop_requested_() && Clock::now() < until) {
        loop_.run_once(wait_until(until));
        flapper_.tick(Clock::now());
        subscribe_due();  // a connection back without its session subscribes again by itself
    }
}

void ConnectionHold::storm() {
    std::size_t dropped = 0;
    for (const auto& m : members_)
        if (!m->failed && m->client->vanish_for("", std::chrono::milliseconds(0))) ++dropped;
    progress_.info(
        fmt::format("reconnect storm: {} connections dropped at once without "
                    "DISCONNECT",
                    dropped));
}

void ConnectionHold::close_all() {
    for (const auto& m : members_) m->client->disconnect(mqtt::Client::SessionAfter::End);
    loop_.run_once(std::chrono::milliseconds(0));
}

void ConnectionHold::show_progress() {
    const std::uint64_t up = stats_.first_connects();
    if (up / 1000 == shown_ / 1000) return;
    shown_ = up;
    progress_.update(fmt::format("{} of {} connections up", up, members_.size()));
}

void ConnectionHold::print_result(const report::Connections& c,
                                  const telemetry::Verdict& verdict) const {
    const auto step = [&](const char* name) {
        const auto it = c.steps_us.find(name);
        if (it == c.steps_us.end()) return std::string();
        return fmt::format(", {} p50 {:.2f} ms p99 {:.2f} ms",
                           name == std::string("tcp")   ? "TCP"
                           : name == std::string("tls") ? "TLS"
                                                        : name,
                           ms(it->second, &report::Latency::p50),
                           ms(it->second, &report::Latency::p99));
    };
    std::printf(
        "%s: %s: %llu of %llu connections up, %llu subscribed, held %.1f s; %.0f "
        "connections/s%s%s%s%s\n",
        kSubscriberProgram, verdict.verified() ? "VERIFIED" : "NOT VERIFIED",
        static_cast<unsigned long long>(stats_.first_connects()),
        static_cast<unsigned long long>(c.planned), static_cast<unsigned long long>(c.subscribed),
        c.held_s, c.connect_rate, step("tcp").c_str(), step("tls").c_str(), step("connack").c_str(),
        step("suback").c_str());
    if (c.reconnected > 0)
        std::printf("%s: %llu reconnected, outage p50 %.2f ms p99 %.2f ms max %.2f ms\n",
                    kSubscriberProgram, static_cast<unsigned long long>(c.reconnected),
                    ms(c.steps_us.at("outage"), &report::Latency::p50),
                    ms(c.steps_us.at("outage"), &report::Latency::p99),
                    ms(c.steps_us.at("outage"), &report::Latency::max));
    for (const std::string& f : verdict.failed)
        std::printf("%s: failed: %s\n", kSubscriberProgram, f.c_str());
    std::fflush(stdout);
}

int ConnectionHold::judge_and_print(const std::string& end_reason) {
    const report::Connections c = stats_.report();
    std::vector<std::string> checks;
    if (c.failed > 0) {
        std::string reasons;
        for (const auto& [reason, n] : c.refused_by_reason)
            reasons += fmt::format("{}{} refused: {}", reasons.empty() ? " (" : ", ", n, reason);
        checks.push_back(fmt::format("{} of {} connections failed{}{}; the first: {}", c.failed,
                                     c.planned, reasons, reasons.empty() ? "" : ")",
                                     c.failures.empty() ? "" : c.failures.front()));
    }
    if (c.lost > 0)
        checks.push_back(fmt::format("{} connections dropped while held; the first: {}", c.lost,
                                     first_drop(c.failures)));
    if (down_at_end_ > 0)
        checks.push_back(
            fmt::format("{} connections were not up at the end of the hold{}", down_at_end_,
                        options_.reconnect_storm_s ? " (not back from the storm)" : ""));
    if (c.subscribe_refused > 0)
        checks.push_back(fmt::format("{} subscriptions refused", c.subscribe_refused));
    std::vector<telemetry::Ending> endings;
    if (end_reason == "interrupted") endings.push_back({"the run", kInterrupted, end_reason});
    // Not one connection came up: the broker is unreachable or refuses, as for one subscriber.
    if (c.connected == 0 && c.failed > 0)
        endings.push_back({"the connections", kBrokerError, "broker-error", true});
    const telemetry::Verdict verdict = telemetry::judge(std::move(checks), endings);

    report_.connections = c;
    report_.end_reason = end_reason;
    report_.elapsed_s = std::chrono::duration<double>(Clock::now() - start_).count();
    report_.failed_checks = verdict.failed;
    report_.verified = verdict.verified();
    report_.exit_status = verdict.exit_status;

    print_result(c, verdict);
    return verdict.exit_status;
}

}  // namespace app

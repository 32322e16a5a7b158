#include "app/connection_stats.hpp"

#include <fmt/format.h>

#include "mqtt/reason_code.hpp"

namespace app {
namespace {

constexpr std::size_t kFailuresListed = 10;

}  // namespace

ConnectionStats::ConnectionStats(std::uint64_t planned, Clock::time_point start)
    : planned_(planned), start_(start) {}

void ConnectionStats::watch(mqtt::Client& client) {
    client.on_step_timed([this](const mqtt::StepTiming& t) { record(t); });
}

std::string ConnectionStats::step_name(const mqtt::StepTiming& t) {
    using Step = mqtt::StepTiming::Step;
    std::string name;
    switch (t.step) {
        case Step::Resolve:
            name = "resolve";
            break;
        case Step::Tcp:
            name = "tcp";
            break;
        case Step::Tls:
            name = "tls";
            break;
        case Step::WebSocket:
            name = "websocket";
            break;
        case Step::Connack:
            name = "connack";
            break;
        case Step::Suback:
            name = "suback";
            break;
        case Step::Unsuback:
            name = "unsuback";
            break;
        case Step::Outage:
            return "outage";
    }
    return t.reconnect ? "reconnect_" + name : name;
}

void ConnectionStats::record(const mqtt::StepTiming& t, Clock::time_point now) {
    using Step = mqtt::StepTiming::Step;
    steps_[step_name(t)].record(t.took.count());
    const bool refusal = mqtt::is_failure(t.reason);
    if (t.step == Step::Connack && refusal) {
        ++refused_;
        ++refused_by_reason_[fmt::format("{} (0x{:02x})", mqtt::reason_text(t.reason),
                                         static_cast<unsigned>(t.reason))];
    } else if (t.step == Step::Connack) {
        ++connected_;
        if (!t.reconnect) {
            ++first_connects_;
            last_first_connack_ = now;
        }
    } else if (t.step == Step::Suback) {
        ++(refusal ? subscribe_refused_ : subscribed_);
    } else if (t.step == Step::Outage) {
        ++reconnected_;
        lost_ += t.deliberate ? 0 : 1;
    }
}

void ConnectionStats::failed(const std::string& error) {
    ++failed_;
    note(error);
}

void ConnectionStats::note(const std::string& what) {
    if (failures_.size() < kFailuresListed) failures_.push_back(what);
}

report::Connections ConnectionStats::report() const {
    report::Connections r;
    r.planned = planned_;
    r.connected = connected_;
    r.refused = refused_;
    r.failed = failed_;
    r.lost = lost_;
    r.reconnected = reconnected_;
    r.subscribed = subscribed_;
    r.subscribe_refused = subscribe_refused_;
    r.refused_by_reason = refused_by_reason_;
    r.failures = failures_;
    const double ramp_s = std::chrono::duration<double>(last_first_connack_ - start_).count();
    r.connect_rate =
        first_connects_ > 0 && ramp_s > 0 ? static_cast<double>(first_connects_) / ramp_s : 0.0;
    r.held_s = held_s_;
    for (const auto& [step, histogram] : steps_) r.steps_us[step] = report::summarize(histogram);
    return r;
}

}  // namespace app

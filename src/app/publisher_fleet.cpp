// PublisherRun for fleets (--connections N|per-device): each device on a clock of its own
// (sim/fleet_schedule.hpp), so that a device whose connection is down or busy holds back only
// its own readings, and the churn of --churn.
#include <fmt/format.h>

#include "app/fleet_plan.hpp"
#include "app/publisher_run.hpp"
#include "telemetry/payload.hpp"

namespace app {
namespace {

// Readings held back at once (their connections down or full) before no more are taken: bounds
// the work of a round when a whole shared connection is busy.
constexpr std::size_t kMaxHeld = 1024;

}  // namespace

void PublisherRun::start_fleet_schedule() {
    const auto start = pacer_.due_time(0);
    sim::FleetSchedule::Config config;
    config.devices = plan_.numbering.devices;
    config.count = options_.count;
    config.jitter = options_.jitter;
    config.seed = options_.seed;
    if (options_.rate > 0)
        config.interval =
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(
                static_cast<double>(plan_.numbering.devices) / options_.rate));
    // This process's devices of each group (a shard has some of each), group after group.
    const std::vector<std::uint32_t>& in_group = plan_.devices_in_group;
    std::vector<sim::ChurnPlan::Group> churn;
    std::uint32_t first = 0;
    for (std::size_t i = 0; i < plan_.groups.size(); ++i) {
        const DeviceGroup& g = plan_.groups[i];
        churn.push_back({first, in_group[i], g.churn});
        first += in_group[i];
        if (!options_.from_profile()) continue;
        // A profile's devices keep their group's clock.
        const sim::FleetSchedule::DeviceClock clock{
            std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::duration<double, std::milli>(g.interval_ms)),
            readings_per_device(g, options_.duration_s), static_cast<float>(g.jitter)};
        config.clocks.insert(config.clocks.end(), in_group[i], clock);
    }
    schedule_.emplace(config, start);
    // Devices drop between a tenth and six tenths of the planned run, so that all are back
    // (after the downtime) while the run still goes on.
    const std::chrono::duration<double> planned(
        options_.rate > 0 ? static_cast<double>(options_.count) / options_.rate : 0.0);
    const auto at = [&](double share) {
        return start + std::chrono::duration_cast<Clock::duration>(planned * share);
    };
    churn_ = sim::ChurnPlan(churn, at(0.1), at(0.6), options_.seed);
}

void PublisherRun::publish_due_fleet() {
    const auto now = Clock::now();
    drop_churned_devices(now);
    std::erase_if(held_, [this](const HeldReading& h) { return send_reading(h); });
    while (held_.size() < kMaxHeld) {
        const auto due = schedule_->next();
        if (!due || due->at > now) return;
        HeldReading reading{schedule_->pop(), {}, {}};
        // Stamped with its scheduled time: a device that was away shows it as latency.
        const std::int64_t ts_us =
            schedule_->paced() ? scheduled_epoch_us(reading.due.at) : send_timestamp_us();
        telemetry::PayloadEncoder& encoder = encoder_for(reading.due.device);
        encoder.encode(fleet_.take(reading.due.device, ts_us), reading.payload);
        if (const auto* properties = encoder.properties()) reading.properties = *properties;
        if (!send_reading(reading)) held_.push_back(std::move(reading));
    }
}

bool PublisherRun::send_reading(const HeldReading& reading) {
    const std::uint32_t device = reading.due.device;
    const auto id = publish_reading(
        topic_of(device), reading.payload, device_qos_[device],
        encoder_for(device).properties() != nullptr ? &reading.properties : nullptr);
    if (!id) return false;
    in_flight_.reading(*id, device, counters_.published);
    ++counters_.published;
    if (schedule_->paced()) {
        const auto back = device < back_at_.size() ? back_at_[device] : Clock::time_point{};
        sent_at(std::max(reading.due.at, back), Clock::now());
    }
    schedule_->done(reading.due);
    return true;
}

void PublisherRun::drop_churned_devices(Clock::time_point now) {
    const auto downtime =
        std::chrono::milliseconds(static_cast<std::int64_t>(options_.churn_downtime_s * 1000.0));
    for (const std::uint32_t device : churn_.due(now)) {
        if (!client_.vanish_for(topic_of(device), downtime)) continue;
        ++counters_.churn_dropped;
        if (back_at_.size() < plan_.devices.size()) back_at_.resize(plan_.devices.size());
        back_at_[device] = now + downtime;
    }
}

std::chrono::microseconds PublisherRun::fleet_time_to_wait() const {
    const auto next = schedule_->next();
    if (!next || !held_.empty()) return std::chrono::milliseconds(10);
    return pacing_wait(next->at - Clock::now());
}

report::Churn PublisherRun::churn_report() const {
    // A profile's groups each have their own share: the fleet's is what was planned of all.
    const double share =
        options_.from_profile() && options_.devices > 0
            ? static_cast<double>(churn_.planned()) / static_cast<double>(options_.devices)
            : options_.churn;
    return {share, churn_.planned(), counters_.churn_dropped, counters_.churn_returned};
}

}  // namespace app

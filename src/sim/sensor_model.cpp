#include "sim/sensor_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <utility>

namespace sim {
namespace {

constexpr double kMicrosPerHour = 3600e6;

// Two independent standard normal values (Box-Muller): a reading needs four, and one logarithm
// and one sine-cosine pair per two keeps the model cheap on the publisher's hot path. Drawn
// fresh for every reading, so values depend only on how many readings came before.
std::pair<double, double> normal_pair(SplitMix64& rng) {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    const double radius = std::sqrt(-2.0 * std::log(std::max(u(rng), 1e-300)));
    const double angle = 2.0 * std::numbers::pi * u(rng);
    return {radius * std::cos(angle), radius * std::sin(angle)};
}

double uniform(SplitMix64& rng, double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
}

}  // namespace

SensorModel::SensorModel(std::uint64_t seed, std::uint64_t device_index, SensorBehaviour behaviour)
    // Golden-ratio spacing keeps the per-device streams of nearby seeds apart.
    : rng_(seed ^ (device_index * 0x9E3779B97F4A7C15ULL)), behaviour_(behaviour) {
    temp_base_ = uniform(rng_, 18.0, 26.0);      // deg C, indoor and sheltered outdoor
    temp_amplitude_ = uniform(rng_, 1.5, 6.0);   // half the day-night swing
    peak_hour_ = uniform(rng_, 13.0, 16.0);      // warmest in the afternoon (UTC)
    hum_base_ = uniform(rng_, 35.0, 65.0);       // % relative humidity at temp_base_
    pres_mean_ = uniform(rng_, 1000.0, 1025.0);  // hPa at various altitudes and weather
    pressure_ = pres_mean_;
    battery_ = uniform(rng_, 90.0, 100.0);
    if (behaviour_.temperature_c != 0.0) temp_base_ = behaviour_.temperature_c;
    if (behaviour_.mains_powered) battery_ = 100.0;
    drain_per_reading_ = uniform(rng_, 0.5e-4, 1.5e-4);  // % per reading
}

double SensorModel::daily_cycle(std::int64_t ts_us) const {
    const double hour = std::fmod(static_cast<double>(ts_us) / kMicrosPerHour, 24.0);
    return std::cos(2.0 * std::numbers::pi * (hour - peak_hour_) / 24.0);  // 1 at the peak
}

telemetry::SensorFault SensorModel::start_fault() {
    if (uniform(rng_, 0.0, 1.0) >= behaviour_.fault_rate) return telemetry::SensorFault::None;
    const double kind = uniform(rng_, 0.0, 1.0);
    if (kind < 0.4) {
        stuck_for_ = static_cast<std::uint16_t>(5 + rng_() % 16);  // 5-20 readings
        return telemetry::SensorFault::Stuck;
    }
    return kind < 0.8 ? telemetry::SensorFault::Spike : telemetry::SensorFault::Dropout;
}

SensorValues SensorModel::next(std::int64_t ts_us) {
    const auto [n1, n2] = normal_pair(rng_);
    const auto [n3, n4] = normal_pair(rng_);
    // Slow drift (a mean-reverting walk) and measurement noise around the daily cycle.
    drift_ += -0.001 * drift_ + 0.01 * n1;
    const double true_temp = temp_base_ + drift_ + temp_amplitude_ * daily_cycle(ts_us) + 0.05 * n2;
    // Relative humidity falls as the air warms (about 2% per degree at constant moisture).
    hum_noise_ += -0.05 * hum_noise_ + 0.2 * n3;
    const double humidity =
        std::clamp(hum_base_ - 2.0 * (true_temp - temp_base_) + hum_noise_, 0.0, 100.0);
    // A random walk, pulled back only weakly so it stays within the weather's range.
    pressure_ += 0.0002 * (pres_mean_ - pressure_) + 0.03 * n4;
    if (!behaviour_.mains_powered) battery_ = std::max(0.0, battery_ - drain_per_reading_);

    SensorValues v{true_temp, humidity, pressure_, battery_};
    v.battery_low = battery_ < SensorBehaviour::kBatteryLow;
    if (stuck_for_ > 0) {
        --stuck_for_;
        v.temperature_c = last_temperature_;
        v.fault = telemetry::SensorFault::Stuck;
    } else {
        v.fault = start_fault();
        if (v.fault == telemetry::SensorFault::Stuck) v.temperature_c = last_temperature_;
        if (v.fault == telemetry::SensorFault::Spike) v.temperature_c += uniform(rng_, 15.0, 40.0);
        if (v.fault == telemetry::SensorFault::Dropout)
            v.temperature_c = SensorBehaviour::kDropoutC;
    }
    if (v.fault != telemetry::SensorFault::Dropout) last_temperature_ = v.temperature_c;
    return v;
}

std::string device_id(const std::string& prefix, std::uint64_t index) {
    return fmt::format("{}{:04}", prefix, index);
}

DeviceFleet::DeviceFleet(const std::string& id_prefix, std::uint64_t devices, std::uint64_t seed,
                         std::string run_id, SensorBehaviour behaviour) {
    devices_.reserve(devices);
    for (std::uint64_t i = 1; i <= devices; ++i)
        devices_.push_back({device_id(id_prefix, i), SensorModel(seed, i, behaviour), 0});
    reading_.run = std::move(run_id);
}

DeviceFleet::DeviceFleet(const std::vector<Setup>& devices, std::uint64_t seed,
                         std::string run_id) {
    devices_.reserve(devices.size());
    for (std::size_t i = 0; i < devices.size(); ++i)
        devices_.push_back(
            {devices[i].id, SensorModel(seed, devices[i].number, devices[i].behaviour), 0});
    reading_.run = std::move(run_id);
}

const telemetry::Reading& DeviceFleet::next(std::int64_t ts_us) {
    const std::size_t index = turn_;
    turn_ = (turn_ + 1) % devices_.size();
    return take(index, ts_us);
}

const telemetry::Reading& DeviceFleet::take(std::size_t index, std::int64_t ts_us) {
    Device& d = devices_[index];
    const SensorValues v = d.model.next(ts_us);
    reading_.device = d.id;
    reading_.seq = ++d.last_seq;
    reading_.ts_us = ts_us;
    reading_.temperature_c = v.temperature_c;
    reading_.humidity_pct = v.humidity_pct;
    reading_.pressure_hpa = v.pressure_hpa;
    reading_.battery_pct = v.battery_pct;
    reading_.fault = v.fault;
    reading_.battery_low = v.battery_low;
    return reading_;
}

void DeviceFleet::skip(std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) {
        Device& d = devices_[turn_];
        turn_ = (turn_ + 1) % devices_.size();
        d.model.next(0);
        ++d.last_seq;
    }
}

}  // namespace sim

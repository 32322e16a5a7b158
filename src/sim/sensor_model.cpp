#include "sim/sensor_model.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sim {

SensorModel::SensorModel(std::uint64_t seed, std::uint64_t device_index)
    // Golden-ratio spacing keeps the per-device streams of nearby seeds apart.
    : rng_(seed ^ (device_index * 0x9E3779B97F4A7C15ULL)) {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    temp_mean_ = 18.0 + 8.0 * u(rng_);     // indoor/outdoor mix, deg C
    hum_mean_ = 35.0 + 30.0 * u(rng_);     // % relative humidity
    pres_mean_ = 1000.0 + 25.0 * u(rng_);  // hPa at various altitudes and weather
    v_ = {temp_mean_, hum_mean_, pres_mean_, 90.0 + 10.0 * u(rng_)};
}

SensorValues SensorModel::next() {
    // Ornstein-Uhlenbeck steps: drift back towards the mean plus small Gaussian noise.
    v_.temperature_c += 0.02 * (temp_mean_ - v_.temperature_c) + 0.05 * noise_(rng_);
    v_.humidity_pct += 0.02 * (hum_mean_ - v_.humidity_pct) + 0.10 * noise_(rng_);
    v_.pressure_hpa += 0.01 * (pres_mean_ - v_.pressure_hpa) + 0.03 * noise_(rng_);
    v_.humidity_pct = std::clamp(v_.humidity_pct, 0.0, 100.0);
    v_.battery_pct = std::max(0.0, v_.battery_pct - 0.0001);
    return v_;
}

std::string device_id(const std::string& prefix, std::uint64_t index) {
    return fmt::format("{}{:04}", prefix, index);
}

DeviceFleet::DeviceFleet(const std::string& id_prefix, std::uint64_t devices, std::uint64_t seed,
                         std::string run_id) {
    devices_.reserve(devices);
    for (std::uint64_t i = 1; i <= devices; ++i)
        devices_.push_back({device_id(id_prefix, i), SensorModel(seed, i), 0});
    reading_.run = std::move(run_id);
}

const telemetry::Reading& DeviceFleet::next(std::int64_t ts_us) {
    const std::size_t index = turn_;
    turn_ = (turn_ + 1) % devices_.size();
    return take(index, ts_us);
}

const telemetry::Reading& DeviceFleet::take(std::size_t index, std::int64_t ts_us) {
    Device& d = devices_[index];
    const SensorValues v = d.model.next();
    reading_.device = d.id;
    reading_.seq = ++d.last_seq;
    reading_.ts_us = ts_us;
    reading_.temperature_c = v.temperature_c;
    reading_.humidity_pct = v.humidity_pct;
    reading_.pressure_hpa = v.pressure_hpa;
    reading_.battery_pct = v.battery_pct;
    return reading_;
}

void DeviceFleet::skip(std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) {
        Device& d = devices_[turn_];
        turn_ = (turn_ + 1) % devices_.size();
        d.model.next();
        ++d.last_seq;
    }
}

}  // namespace sim

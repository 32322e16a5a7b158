#pragma once
// Simulated sensors whose values drift like real ones: mean-reverting random walks for
// temperature, humidity and pressure, and a battery that slowly drains. Reproducible from a
// seed: the same seed and device index give the same sequence of values.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "telemetry/payload.hpp"

namespace sim {

struct SensorValues {
    double temperature_c;
    double humidity_pct;
    double pressure_hpa;
    double battery_pct;
};

// SplitMix64 (Steele, Lea and Flood, 2014) as a standard random bit generator: 8 bytes of state
// and good statistical quality. A fleet holds one generator per device, and std::mt19937_64's
// 2.5 KB each were most of a 10,000-device publisher's memory.
class SplitMix64 {
  public:
    using result_type = std::uint64_t;
    explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return UINT64_MAX; }
    result_type operator()() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }

  private:
    std::uint64_t state_;
};

class SensorModel {
  public:
    SensorModel(std::uint64_t seed, std::uint64_t device_index);
    // Advances the sensors by one reading interval and returns the new values.
    SensorValues next();

  private:
    SplitMix64 rng_;
    std::normal_distribution<double> noise_{0.0, 1.0};
    double temp_mean_, hum_mean_, pres_mean_;
    SensorValues v_;
};

// A fleet of simulated devices publishing in turn; each device numbers its readings from 1.
class DeviceFleet {
  public:
    DeviceFleet(const std::string& id_prefix, std::uint64_t devices, std::uint64_t seed,
                std::string run_id);

    // The next reading of the next device in round-robin order, stamped with `ts_us`.
    const telemetry::Reading& next(std::int64_t ts_us);
    // The next reading of device `index` (0-based), for fleets whose devices keep their own time.
    const telemetry::Reading& take(std::size_t index, std::int64_t ts_us);
    // Advances as if `n` readings were taken: a resumed run continues with the same values.
    void skip(std::uint64_t n);

    struct Device {
        std::string id;
        SensorModel model;
        std::uint64_t last_seq{0};
    };
    const std::vector<Device>& devices() const { return devices_; }

  private:
    std::vector<Device> devices_;
    std::size_t turn_{0};
    telemetry::Reading reading_;
};

// Device ids are the prefix followed by a 1-based index padded to at least four digits.
std::string device_id(const std::string& prefix, std::uint64_t index);

}  // namespace sim

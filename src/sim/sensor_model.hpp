#pragma once
// Simulated sensors that behave like hardware: temperature follows a daily cycle (from the
// reading's timestamp) with noise and a slow drift; humidity moves against temperature; pressure
// is a random walk; the battery drains and reports low below 20%. Now and then a sensor fails
// (fault_rate per reading): its value sticks for a while, spikes once, or drops out (reads
// -127 C, what a DS18B20 reports when its wire is gone). Reproducible: the same seed, device
// index and timestamps give the same values.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "telemetry/payload.hpp"
#include "telemetry/splitmix64.hpp"

namespace sim {

struct SensorValues {
    double temperature_c;
    double humidity_pct;
    double pressure_hpa;
    double battery_pct;
    telemetry::SensorFault fault{telemetry::SensorFault::None};
    bool battery_low{false};
};

using SplitMix64 = telemetry::SplitMix64;  // the generator every device model draws from

struct SensorBehaviour {
    double fault_rate{0.001};   // chance per reading that a fault starts
    bool mains_powered{false};  // no battery to drain: it stays at 100%
    double temperature_c{0.0};  // the daily mean; 0: drawn at random between 18 and 26
    static constexpr double kBatteryLow = 20.0;  // % below which a device reports low
    static constexpr double kDropoutC = -127.0;  // a DS18B20 without its sensor
};

class SensorModel {
  public:
    SensorModel(std::uint64_t seed, std::uint64_t device_index, SensorBehaviour behaviour = {});
    // Advances the sensors by one reading, taken at `ts_us` (microseconds since the epoch; the
    // time of day sets the daily cycle), and returns the values the device reports.
    SensorValues next(std::int64_t ts_us);

  private:
    double daily_cycle(std::int64_t ts_us) const;
    telemetry::SensorFault start_fault();

    SplitMix64 rng_;
    SensorBehaviour behaviour_;
    // The device's own character, drawn once.
    double temp_base_, temp_amplitude_, peak_hour_, hum_base_, pres_mean_, drain_per_reading_;
    // Its state.
    double drift_{0.0};
    double hum_noise_{0.0};
    double pressure_;
    double battery_;
    double last_temperature_{0.0};
    std::uint16_t stuck_for_{0};  // readings the temperature stays stuck
};

// A fleet of simulated devices publishing in turn; each device numbers its readings from 1.
class DeviceFleet {
  public:
    DeviceFleet(const std::string& id_prefix, std::uint64_t devices, std::uint64_t seed,
                std::string run_id, SensorBehaviour behaviour = {});
    // Devices of their own ids and behaviours (a fleet profile's groups, a shard's devices):
    // device number k draws its values as the k-th device of the constructor above would.
    struct Setup {
        std::string id;
        SensorBehaviour behaviour;
        std::uint64_t number;  // from 1
    };
    DeviceFleet(const std::vector<Setup>& devices, std::uint64_t seed, std::string run_id);

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

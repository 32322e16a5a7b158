#include "sim/sensor_model.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace sim {
namespace {

constexpr std::int64_t kHour = 3'600'000'000;
constexpr std::int64_t kMidnight = 1'764'028'800'000'000;  // 2025-11-25 00:00 UTC

double correlation(const std::vector<double>& x, const std::vector<double>& y) {
    const auto n = static_cast<double>(x.size());
    double mx = 0, my = 0;
    for (std::size_t i = 0; i < x.size(); ++i) mx += x[i] / n, my += y[i] / n;
    double sxy = 0, sxx = 0, syy = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxy / std::sqrt(sxx * syy);
}

SensorBehaviour without_faults() {
    return SensorBehaviour{0.0};
}

TEST(SensorModel, TheSameSeedDeviceAndTimesGiveTheSameValuesFaultsIncluded) {
    SensorModel a(7, 3, SensorBehaviour{0.05}), b(7, 3, SensorBehaviour{0.05});
    for (std::int64_t i = 0; i < 2000; ++i) {
        const SensorValues x = a.next(kMidnight + i * 60'000'000),
                           y = b.next(kMidnight + i * 60'000'000);
        ASSERT_EQ(x.temperature_c, y.temperature_c);
        ASSERT_EQ(x.humidity_pct, y.humidity_pct);
        ASSERT_EQ(x.pressure_hpa, y.pressure_hpa);
        ASSERT_EQ(x.battery_pct, y.battery_pct);
        ASSERT_EQ(x.fault, y.fault);
    }
}

TEST(SensorModel, DevicesDiffer) {
    SensorModel a(7, 1), b(7, 2);
    EXPECT_NE(a.next(kMidnight).temperature_c, b.next(kMidnight).temperature_c);
}

TEST(SensorModel, TemperatureFollowsADailyCycleWarmestInTheAfternoon) {
    for (std::uint64_t device = 1; device <= 20; ++device) {
        SensorModel m(1, device, without_faults());
        std::vector<double> hourly(24, 0.0);
        for (int day = 0; day < 5; ++day)
            for (int hour = 0; hour < 24; ++hour)
                for (int i = 0; i < 6; ++i)  // every 10 minutes
                    hourly[hour] += m.next(kMidnight + (day * 24 + hour) * kHour + i * kHour / 6)
                                        .temperature_c /
                                    30.0;
        const auto warmest = std::max_element(hourly.begin(), hourly.end()) - hourly.begin();
        const auto coldest = std::min_element(hourly.begin(), hourly.end()) - hourly.begin();
        EXPECT_GE(warmest, 12) << device;
        EXPECT_LE(warmest, 17) << device;
        EXPECT_GE(hourly[warmest] - hourly[coldest], 2.5) << device << ": day and night differ";
        EXPECT_LT(hourly[warmest] - hourly[coldest], 14.0) << device;
    }
}

TEST(SensorModel, HumidityMovesAgainstTemperature) {
    SensorModel m(3, 9, without_faults());
    std::vector<double> temp, hum;
    for (std::int64_t i = 0; i < 24 * 12 * 3; ++i) {  // three days, every 5 minutes
        const SensorValues v = m.next(kMidnight + i * kHour / 12);
        temp.push_back(v.temperature_c);
        hum.push_back(v.humidity_pct);
    }
    EXPECT_LT(correlation(temp, hum), -0.8);
}

TEST(SensorModel, PressureIsARandomWalkOfSmallSteps) {
    SensorModel m(5, 2, without_faults());
    std::vector<double> level, step;
    double last = m.next(kMidnight).pressure_hpa;
    for (std::int64_t i = 1; i < 20'000; ++i) {
        const double p = m.next(kMidnight + i * 60'000'000).pressure_hpa;
        level.push_back(p);
        step.push_back(p - last);
        last = p;
    }
    double mean = 0, sq = 0;
    for (double d : step) mean += d / static_cast<double>(step.size());
    for (double d : step) sq += (d - mean) * (d - mean) / static_cast<double>(step.size());
    EXPECT_NEAR(mean, 0.0, 0.002);
    EXPECT_NEAR(std::sqrt(sq), 0.03, 0.003);
    // Its level wanders (each reading close to the one before), its steps do not remember.
    const std::vector<double> now(level.begin() + 1, level.end()),
        before(level.begin(), level.end() - 1);
    EXPECT_GT(correlation(now, before), 0.95);
    const std::vector<double> s1(step.begin() + 1, step.end()), s0(step.begin(), step.end() - 1);
    EXPECT_NEAR(correlation(s1, s0), 0.0, 0.05);
}

TEST(SensorModel, TheBatteryDrainsAndReportsLowBelowTwentyPercent) {
    SensorModel m(1, 1, without_faults());
    SensorValues v = m.next(kMidnight);
    const double start = v.battery_pct;
    EXPECT_GE(start, 90.0);
    std::int64_t readings = 0;
    while (v.battery_pct >= 20.0 && readings < 2'000'000) {
        EXPECT_FALSE(v.battery_low);
        v = m.next(kMidnight + ++readings);
    }
    EXPECT_TRUE(v.battery_low);
    EXPECT_GT(readings, 400'000) << "it drains slowly";
    EXPECT_LT(readings, 1'700'000);
}

TEST(SensorModel, FaultsComeAtTheirRateStuckSpikeAndDropoutEachAsHardwareShowsThem) {
    SensorModel m(11, 4, SensorBehaviour{0.01});
    std::map<telemetry::SensorFault, int> starts;
    SensorValues before = m.next(kMidnight);
    for (std::int64_t i = 1; i < 100'000; ++i) {
        const SensorValues v = m.next(kMidnight + i * 60'000'000);
        if (v.fault == telemetry::SensorFault::Stuck) {
            EXPECT_EQ(v.temperature_c, before.temperature_c) << "the value sticks";
        }
        if (v.fault == telemetry::SensorFault::Spike &&
            before.fault == telemetry::SensorFault::None) {
            EXPECT_GT(v.temperature_c, before.temperature_c + 10.0);
        }
        if (v.fault == telemetry::SensorFault::Dropout) {
            EXPECT_EQ(v.temperature_c, -127.0);
        }
        if (v.fault != telemetry::SensorFault::None && v.fault != before.fault) ++starts[v.fault];
        if (v.fault != telemetry::SensorFault::Dropout)
            before = v;
        else
            before.fault = v.fault;
    }
    int total = 0;
    for (const auto& [fault, n] : starts) total += n;
    EXPECT_GT(total, 700);  // about 1% of 100,000 readings
    EXPECT_LT(total, 1300);
    EXPECT_GT(starts[telemetry::SensorFault::Stuck], 200);
    EXPECT_GT(starts[telemetry::SensorFault::Spike], 200);
    EXPECT_GT(starts[telemetry::SensorFault::Dropout], 100);
}

TEST(SensorModel, NoFaultsAtRateZeroAndValuesStayPlausibleOverALongRun) {
    SensorModel m(1, 1, without_faults());
    for (std::int64_t i = 0; i < 200'000; ++i) {
        const SensorValues v = m.next(kMidnight + i * 60'000'000);
        ASSERT_EQ(v.fault, telemetry::SensorFault::None);
        ASSERT_GT(v.temperature_c, -20.0);
        ASSERT_LT(v.temperature_c, 60.0);
        ASSERT_GE(v.humidity_pct, 0.0);
        ASSERT_LE(v.humidity_pct, 100.0);
        ASSERT_GT(v.pressure_hpa, 900.0);
        ASSERT_LT(v.pressure_hpa, 1100.0);
    }
}

TEST(DeviceFleet, NumbersEachDeviceFromOneInTurn) {
    DeviceFleet fleet("dev-", 3, 1, "run");
    std::vector<std::pair<std::string, std::uint64_t>> seen;
    for (int i = 0; i < 7; ++i) {
        const auto& r = fleet.next(1000 + i);
        seen.emplace_back(r.device, r.seq);
        EXPECT_EQ(r.run, "run");
        EXPECT_EQ(r.ts_us, 1000 + i);
    }
    const std::vector<std::pair<std::string, std::uint64_t>> expected{
        {"dev-0001", 1}, {"dev-0002", 1}, {"dev-0003", 1}, {"dev-0001", 2},
        {"dev-0002", 2}, {"dev-0003", 2}, {"dev-0001", 3}};
    EXPECT_EQ(seen, expected);
    EXPECT_EQ(fleet.devices()[0].last_seq, 3u);
    EXPECT_EQ(fleet.devices()[2].last_seq, 2u);
}

}  // namespace
}  // namespace sim

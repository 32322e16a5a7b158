#include "sim/sensor_model.hpp"

#include <gtest/gtest.h>

namespace sim {
namespace {

TEST(SensorModel, SameSeedAndDeviceGiveTheSameValues) {
    SensorModel a(7, 3), b(7, 3);
    for (int i = 0; i < 100; ++i) {
        const SensorValues x = a.next(), y = b.next();
        ASSERT_EQ(x.temperature_c, y.temperature_c);
        ASSERT_EQ(x.battery_pct, y.battery_pct);
    }
}

TEST(SensorModel, DevicesDiffer) {
    SensorModel a(7, 1), b(7, 2);
    EXPECT_NE(a.next().temperature_c, b.next().temperature_c);
}

TEST(SensorModel, ValuesStayPlausibleOverALongRun) {
    SensorModel m(1, 1);
    SensorValues v{};
    for (int i = 0; i < 200'000; ++i) {
        v = m.next();
        ASSERT_GT(v.temperature_c, -20.0);
        ASSERT_LT(v.temperature_c, 60.0);
        ASSERT_GE(v.humidity_pct, 0.0);
        ASSERT_LE(v.humidity_pct, 100.0);
        ASSERT_GT(v.pressure_hpa, 900.0);
        ASSERT_LT(v.pressure_hpa, 1100.0);
    }
    EXPECT_GE(v.battery_pct, 0.0);
    EXPECT_LT(v.battery_pct, 90.0);  // it drained
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

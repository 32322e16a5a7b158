// Devices online and offline, from their status topic (birth and last-will messages).
#include "telemetry/device_status.hpp"

#include <gtest/gtest.h>

namespace telemetry {
namespace {

TEST(DeviceStatusBoard, TheDeviceIsTheLevelUnderThePlus) {
    const DeviceStatusBoard board("sensors/+/status");
    EXPECT_EQ(board.device_in("sensors/sensor-0001/status"), "sensor-0001");
    EXPECT_FALSE(board.device_in("sensors/sensor-0001/telemetry"));
    EXPECT_FALSE(board.device_in("sensors/a/b/status"));
    EXPECT_FALSE(board.device_in("sensors//status"));
    EXPECT_FALSE(board.device_in("sensors/a/status/more"));
    EXPECT_FALSE(board.device_in("sensors/a"));
    EXPECT_FALSE(board.device_in("sensors/a/status/"));
    EXPECT_EQ(DeviceStatusBoard("+/status").device_in("d/status"), "d");
    EXPECT_THROW(DeviceStatusBoard("sensors/#"), std::invalid_argument);
    EXPECT_THROW(DeviceStatusBoard("sensors/+/+/status"), std::invalid_argument);
    EXPECT_THROW(DeviceStatusBoard("sensors/status"), std::invalid_argument);
}

TEST(DeviceStatusBoard, CountsOnlineAndOfflineAndEveryChange) {
    DeviceStatusBoard board("s/+/status");
    EXPECT_TRUE(board.apply("a", "online"));
    EXPECT_TRUE(board.apply("b", "online"));
    EXPECT_TRUE(board.apply("b", "offline"));  // its will
    EXPECT_TRUE(board.apply("b", "online"));   // back
    EXPECT_TRUE(board.apply("c", "offline"));
    EXPECT_TRUE(board.apply("a", "online"));  // no change
    EXPECT_FALSE(board.apply("a", "rebooting"));
    EXPECT_EQ(board.online(), 2U);
    EXPECT_EQ(board.offline(), 1U);
    EXPECT_EQ(board.changes(), 5U);
    EXPECT_EQ(board.offline_devices(10), (std::vector<std::string>{"c"}));
}
}  // namespace
}  // namespace telemetry

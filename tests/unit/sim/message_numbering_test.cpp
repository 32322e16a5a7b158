#include "sim/message_numbering.hpp"

#include <gtest/gtest.h>

namespace sim {
namespace {

TEST(MessageNumbering, DevicesTakeTurnsAndEachCountsFromOne) {
    const MessageNumbering n{3};
    EXPECT_EQ(n.device_of(0), 0u);
    EXPECT_EQ(n.device_of(4), 1u);
    EXPECT_EQ(n.sequence_of(0), 1u);
    EXPECT_EQ(n.sequence_of(2), 1u);
    EXPECT_EQ(n.sequence_of(3), 2u);
}

TEST(MessageNumbering, ADevicesSequenceNumberLeadsBackToItsMessage) {
    const MessageNumbering n{7};
    for (std::uint64_t k = 0; k < 100; ++k)
        EXPECT_EQ(n.number_of(n.device_of(k), n.sequence_of(k)), k) << "message " << k;
}

TEST(MessageNumbering, TheFirstDevicesSendOneMoreWhenTheCountDoesNotDivide) {
    const MessageNumbering n{4};
    EXPECT_EQ(n.readings_of(0, 10), 3u);
    EXPECT_EQ(n.readings_of(1, 10), 3u);
    EXPECT_EQ(n.readings_of(2, 10), 2u);
    EXPECT_EQ(n.readings_of(3, 10), 2u);
    std::uint64_t total = 0;
    for (std::uint64_t d = 0; d < 4; ++d) total += n.readings_of(d, 10);
    EXPECT_EQ(total, 10u);
}

}  // namespace
}  // namespace sim

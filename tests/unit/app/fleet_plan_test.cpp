// The run plan the publisher works out once from its options: devices, groups, numbering, and
// the connections they publish on.
#include "app/fleet_plan.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "app/publisher.hpp"

namespace app {
namespace {

TEST(FleetPlans, AShardPlansEveryNthDeviceAndNumbersItsOwnMessages) {
    const auto parsed = parse_publisher_args(
        {"mqtt_publisher", "-d", "10", "-n", "100", "--shard", "2/3", "--run-id", "r"});
    ASSERT_TRUE(parsed.options) << parsed.err;
    const RunPlan plan = plan_run(*parsed.options);
    ASSERT_EQ(plan.devices.size(), 3U);  // devices 2, 5 and 8 of 10
    EXPECT_EQ(plan.devices[0].id, "sensor-0002");
    EXPECT_EQ(plan.devices[2].id, "sensor-0008");
    EXPECT_EQ(plan.devices[2].number, 8U) << "numbered within the whole fleet: seeds its sensors";
    EXPECT_EQ(plan.devices_in_group, std::vector<std::uint32_t>{3});
    EXPECT_EQ(plan.numbering.devices, 3U);
    EXPECT_EQ(plan.numbering.device_of(4), 1U);
}

TEST(FleetPlans, AHostListSpreadsConnectionsRoundRobinOrByAStableHash) {
    const auto rr = parse_publisher_args(
        {"mqtt_publisher", "-h", "a,b,c", "-d", "7", "-n", "7", "--connections", "per-device"});
    ASSERT_TRUE(rr.options) << rr.err;
    const auto plans = connection_plans(*rr.options, plan_run(*rr.options));
    ASSERT_EQ(plans.size(), 7U);
    for (std::size_t i = 0; i < plans.size(); ++i) EXPECT_EQ(plans[i].broker, i % 3) << i;

    // By hash: a device keeps its node when the fleet grows, and in a shard, where it has
    // another place in the list (round-robin would move it).
    const auto hashed = [](std::vector<std::string> extra) {
        std::vector<std::string> args{"mqtt_publisher", "-h",       "a,b,c", "--connections",
                                      "per-device",     "--spread", "hash"};
        args.insert(args.end(), extra.begin(), extra.end());
        auto p = parse_publisher_args(args);
        EXPECT_TRUE(p.options) << p.err;
        return connection_plans(*p.options, plan_run(*p.options));
    };
    const auto small = hashed({"-d", "20", "-n", "20"});
    const auto large = hashed({"-d", "200", "-n", "200"});
    std::set<std::size_t> used;
    for (std::size_t i = 0; i < small.size(); ++i) {
        EXPECT_EQ(small[i].client_id, large[i].client_id);
        EXPECT_EQ(small[i].broker, large[i].broker) << small[i].client_id;
        used.insert(small[i].broker);
    }
    EXPECT_EQ(used.size(), 3U) << "20 devices land on every node";
    const auto shard = hashed({"-d", "20", "-n", "20", "--shard", "2/2", "--run-id", "r"});
    ASSERT_EQ(shard.size(), 10U);
    for (std::size_t j = 0; j < shard.size(); ++j) {
        EXPECT_EQ(shard[j].client_id, small[2 * j + 1].client_id);
        EXPECT_EQ(shard[j].broker, small[2 * j + 1].broker) << shard[j].client_id;
    }
}
}  // namespace
}  // namespace app

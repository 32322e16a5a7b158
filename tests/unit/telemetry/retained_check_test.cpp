// RetainedCheck: each expected device's retained last value against its run summary's last
// reading.

#include "telemetry/retained_check.hpp"

#include <gtest/gtest.h>

namespace telemetry {
namespace {

DecodedReading reading(const std::string& run, const std::string& device, std::uint64_t seq) {
    DecodedReading d;
    d.reading = Reading{run, device, seq};
    return d;
}

RetainedCheck three_devices() {
    return RetainedCheck(
        {{{"r1", "sensor-0001"}, 100}, {{"r1", "sensor-0002"}, 100}, {{"r1", "sensor-0003"}, 99}});
}

TEST(RetainedCheck, EveryDevicesLastReadingRetainedIsCurrent) {
    RetainedCheck check = three_devices();
    check.record("t", reading("r1", "sensor-0001", 100));
    check.record("t", reading("r1", "sensor-0002", 100));
    EXPECT_FALSE(check.all_arrived());
    check.record("t", reading("r1", "sensor-0003", 99));
    EXPECT_TRUE(check.all_arrived());
    const RetainedTotals t = check.totals();
    EXPECT_EQ(t.devices, 3u);
    EXPECT_EQ(t.current, 3u);
    EXPECT_TRUE(check.failed_checks().empty());
}

TEST(RetainedCheck, AnEarlierReadingIsStaleAndNoneIsMissingEachNamed) {
    RetainedCheck check = three_devices();
    check.record("t", reading("r1", "sensor-0001", 100));
    check.record("t", reading("r1", "sensor-0002", 97));
    check.record("t", reading("other-run", "sensor-0003", 5));  // not ours: not counted
    const RetainedTotals t = check.totals();
    EXPECT_EQ(t.current, 1u);
    EXPECT_EQ(t.stale, 1u);
    EXPECT_EQ(t.missing, 1u);
    ASSERT_EQ(check.failed_checks().size(), 1u);
    EXPECT_EQ(check.failed_checks()[0],
              "retained last values: 1 of 3 devices stale and 1 missing; the first: "
              "sensor-0002 of run r1: reading 97 retained, the last is 100");
    EXPECT_EQ(t.examples.at(1), "sensor-0003 of run r1: nothing retained (last reading 99)");
}

TEST(RetainedCheck, AnUnreadableRetainedMessageFailsNamingItsTopic) {
    RetainedCheck check({{{"r1", "sensor-0001"}, 1}});
    DecodedReading bad;
    bad.error = "checksum mismatch";
    check.record("sensors/sensor-0001/telemetry", bad);
    check.record("t", reading("r1", "sensor-0001", 1));
    const auto failed = check.failed_checks();
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(failed[0],
              "retained last values: 1 retained messages unreadable: "
              "sensors/sensor-0001/telemetry: checksum mismatch");
}

TEST(RetainedCheck, NothingToCheckIsAFailureNotAPass) {
    EXPECT_EQ(
        RetainedCheck({}).failed_checks(),
        std::vector<std::string>{"retained last values: no device of a summarised run to check"});
}

}  // namespace
}  // namespace telemetry

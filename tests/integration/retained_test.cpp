// Retained last values (mqtt_publisher --retain, mqtt_subscriber --check-retained) against a
// real Mosquitto: each device's last reading is what a later subscriber gets, a broker that
// kept none fails the check, and last values from an earlier run are never counted as
// deliveries of the next one.

#include "pair.hpp"

namespace harness {
namespace {

TEST(Retained, EachDevicesLastReadingIsWhatASubscriberGetsAfterTheRun) {
    Broker broker;
    TempDir dir;
    const auto r =
        run_pair(broker, dir, {"-n", "2000", "-d", "20", "--retain"}, {"--check-retained"});
    expect_verified(r, 2000);
    EXPECT_NE(r.subscriber_out.find("retained last values: 20 of 20 devices current"),
              std::string::npos)
        << r.subscriber_out;
    const auto& retained = r.subscriber.at("retained");
    EXPECT_EQ(retained.at("devices"), 20);
    EXPECT_EQ(retained.at("current"), 20);
    EXPECT_EQ(retained.at("missing"), 0);
}

TEST(Retained, ABrokerThatKeptNoLastValueFailsTheCheckNamingADevice) {
    // The readings were not published retained: nothing is kept, and the check must say so.
    Broker broker;
    TempDir dir;
    const auto r = run_pair(broker, dir, {"-n", "500", "-d", "5"}, {"--check-retained"});
    EXPECT_EQ(r.publisher_status, 0) << r.publisher_err;
    EXPECT_EQ(r.subscriber_status, 1) << r.subscriber_out;
    EXPECT_NE(r.subscriber_out.find("failed: retained last values: 0 of 5 devices stale and 5 "
                                    "missing; the first: sensor-0001 of run "),
              std::string::npos)
        << r.subscriber_out;
    EXPECT_EQ(r.subscriber.at("unique"), 500) << "every delivery still verified";
}

TEST(Retained, ASecondRunIsNotConfusedByTheLastValuesOfTheFirst) {
    Broker broker;
    TempDir first, second;
    expect_verified(run_pair(broker, first, {"-n", "300", "-d", "3", "--retain"}, {}), 300);
    const auto r =
        run_pair(broker, second, {"-n", "300", "-d", "3", "--retain"}, {"--check-retained"});
    expect_verified(r, 300);
    EXPECT_NE(r.subscriber_err.find("are last values the broker kept from before: not counted"),
              std::string::npos)
        << r.subscriber_err;
    EXPECT_EQ(r.subscriber.at("received"), 300) << "the first run's 3 last values set aside";
    EXPECT_EQ(r.subscriber.at("retained").at("current"), 3);
}

}  // namespace
}  // namespace harness

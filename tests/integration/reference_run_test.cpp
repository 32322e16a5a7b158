// The reference run: 1,000,000 QoS 1 messages, every one confirmed and verified.

#include "pair.hpp"

namespace harness {
namespace {

TEST(ReferenceRun, MillionQos1MessagesAreVerifiedExactly) {
    Broker broker;
    TempDir dir;
    const auto r = run_pair(broker, dir, {"-n", "1000000", "-q", "1", "--progress-every", "100000"},
                            {"--progress-every", "100000"}, 900s);
    EXPECT_EQ(r.publisher_status, 0) << r.publisher_err;
    EXPECT_EQ(r.subscriber_status, 0) << r.subscriber_out;
    EXPECT_EQ(r.publisher.value("confirmed", 0u), 1'000'000u);
    EXPECT_EQ(r.subscriber.value("unique", 0u), 1'000'000u);
    EXPECT_EQ(r.subscriber.value("received", 0u), 1'000'000u);
    EXPECT_EQ(r.subscriber.value("missing", 1u), 0u);
    EXPECT_EQ(r.subscriber.value("duplicates", 1u), 0u);
    EXPECT_EQ(r.subscriber.value("malformed", 1u), 0u);
    EXPECT_EQ(r.subscriber.value("end_reason", ""), "complete");
    EXPECT_NE(r.subscriber_out.find("mqtt_subscriber: VERIFIED: "), std::string::npos)
        << r.subscriber_out;
    std::printf("reference run: publisher %.0f msg/s, subscriber %.0f msg/s\n",
                r.publisher.value("msgs_per_sec", 0.0), r.subscriber.value("msgs_per_sec", 0.0));
}

}  // namespace
}  // namespace harness

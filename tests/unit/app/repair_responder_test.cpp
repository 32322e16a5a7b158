#include "app/repair_responder.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "telemetry/repair.hpp"

namespace app {
namespace {

using namespace std::chrono_literals;
using Clock = RepairResponder::Clock;

std::string request(const std::string& run, const std::string& device, std::uint64_t first,
                    std::uint64_t last) {
    telemetry::RepairMessage m;
    m.run = run;
    m.ranges.push_back({device, first, last});
    return telemetry::encode_repair(m);
}

std::string done(const std::string& run) {
    telemetry::RepairMessage m;
    m.run = run;
    m.done = true;
    return telemetry::encode_repair(m);
}

// Two devices: message k is device k mod 2, sequence k / 2 + 1.
RepairResponder two_devices(std::size_t buffer) {
    RepairResponder r(buffer, "run-1", sim::MessageNumbering{2});
    r.add_device("dev-a", 0);
    r.add_device("dev-b", 1);
    for (std::uint64_t k = 0; k < 10; ++k) r.keep(k, "payload-" + std::to_string(k));
    return r;
}

TEST(RepairResponder, ARequestedSequenceIsSentAgainAsTheSameMessageNumberAndBytes) {
    RepairResponder r = two_devices(16);
    const auto answer = r.on_request(request("run-1", "dev-b", 2, 3), Clock::now());
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->wanted, 2u);
    EXPECT_EQ(answer->held, 2u);
    // dev-b (index 1), sequence 2 is message (2-1)*2+1 = 3; sequence 3 is message 5.
    auto resend = r.next();
    ASSERT_TRUE(resend);
    EXPECT_EQ(resend->number, 3u);
    EXPECT_EQ(resend->payload, "payload-3");
    r.sent();
    resend = r.next();
    ASSERT_TRUE(resend);
    EXPECT_EQ(resend->number, 5u);
    r.sent();
    EXPECT_FALSE(r.next());
}

// --envelope properties: the ledger's fields travel beside the body, so a repair must send them
// again with it; a message without them is sent without.
TEST(RepairResponder, AMessagesUserPropertiesAreSentAgainWithItsBody) {
    RepairResponder r(4, "run-1", sim::MessageNumbering{1});
    r.add_device("dev-a", 0);
    telemetry::PropertyEnvelope properties;
    properties.write(telemetry::Reading{"run-1", "dev-a", 1, 1764102213123456},
                     telemetry::BodyKind::Opaque, "body-0");
    r.keep(0, "body-0", &properties);
    r.keep(1, "payload-1");
    ASSERT_TRUE(r.on_request(request("run-1", "dev-a", 1, 2), Clock::now()));
    auto resend = r.next();
    ASSERT_TRUE(resend);
    ASSERT_NE(resend->properties, nullptr);
    EXPECT_EQ(resend->properties->pairs()[3].value, "1") << "mt-seq";
    EXPECT_EQ(resend->properties->pairs()[6].value, properties.pairs()[6].value) << "mt-crc";
    r.sent();
    resend = r.next();
    ASSERT_TRUE(resend);
    EXPECT_EQ(resend->properties, nullptr);
}

TEST(RepairResponder, AnotherRunsRequestAndAnUnknownDeviceAreIgnored) {
    RepairResponder r = two_devices(16);
    EXPECT_FALSE(r.on_request(request("run-2", "dev-a", 1, 3), Clock::now()));
    const auto answer = r.on_request(request("run-1", "dev-z", 1, 3), Clock::now());
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->wanted, 0u);
    EXPECT_FALSE(r.next());
    EXPECT_FALSE(r.on_request("not json", Clock::now()));
}

TEST(RepairResponder, NoRequestQueuesMoreThanTheBufferHolds) {
    RepairResponder r = two_devices(4);
    const auto answer = r.on_request(request("run-1", "dev-a", 1, 1'000'000), Clock::now());
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->wanted, 4u);
    // Sequences 1-4 of dev-a are messages 0, 2, 4, 6; a buffer of 4 still holds only 6.
    EXPECT_EQ(answer->held, 1u);
}

TEST(RepairResponder, AMessageDroppedFromTheBufferAfterItWasQueuedIsSkipped) {
    RepairResponder r = two_devices(4);
    ASSERT_EQ(r.on_request(request("run-1", "dev-a", 4, 5), Clock::now())->held, 2u);
    r.keep(10, "payload-10");  // takes the slot of message 6 (dev-a, sequence 4)
    const auto resend = r.next();
    ASSERT_TRUE(resend);
    EXPECT_EQ(resend->number, 8u);
    EXPECT_EQ(resend->payload, "payload-8");
}

TEST(RepairResponder, LingersWhileTheConsumerAsksAndStopsWhenItIsDone) {
    RepairResponder r = two_devices(16);
    const Clock::time_point t0 = Clock::now();
    r.start_linger(t0);
    EXPECT_TRUE(r.lingering(t0 + 1s, 2s));
    EXPECT_FALSE(r.lingering(t0 + 3s, 2s)) << "no request within the linger";
    r.on_request(request("run-1", "dev-a", 1, 1), t0 + 3s);
    EXPECT_TRUE(r.lingering(t0 + 10s, 2s)) << "a queued repair keeps it answering";
    r.sent();
    EXPECT_FALSE(r.lingering(t0 + 10s, 2s));
    EXPECT_FALSE(r.on_request(done("run-1"), t0 + 11s));
    EXPECT_TRUE(r.done());
    EXPECT_FALSE(r.lingering(t0 + 11s, 2s));
}

TEST(RepairResponder, WithoutABufferRepairIsOff) {
    RepairResponder r(0, "run-1", sim::MessageNumbering{1});
    EXPECT_FALSE(r.enabled());
    r.add_device("dev-a", 0);
    EXPECT_EQ(r.on_request(request("run-1", "dev-a", 1, 5), Clock::now())->held, 0u);
}

}  // namespace
}  // namespace app

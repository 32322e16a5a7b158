#include "telemetry/run_summary.hpp"

#include <gtest/gtest.h>

namespace telemetry {
namespace {

TEST(RunSummaryCodec, RoundTrips) {
    const RunSummary s{
        "abc123", 1,    2000,
        1999,     true, {{"sensor-0001", 1000, 1000, {}, {}}, {"sensor-0002", 1000, 1000, {}, {}}}};
    const auto decoded = decode_run_summary(encode_run_summary(s));
    ASSERT_TRUE(decoded.summary) << decoded.error;
    EXPECT_EQ(*decoded.summary, s);
}

TEST(RunSummaryCodec, AShardSaysWhichOfHowManyAndOnlyWhenSharded) {
    RunSummary s{"abc123", 1, 10, 10, false, {{"sensor-0002", 10, 10, {}, {}}}, 2, 3};
    const std::string payload = encode_run_summary(s);
    EXPECT_NE(payload.find(R"("shard":[2,3],"devices")"), std::string::npos) << payload;
    EXPECT_EQ(decode_run_summary(payload).summary, s);
    s.shard = s.shards = 1;
    EXPECT_EQ(encode_run_summary(s).find("shard"), std::string::npos);
    for (const char* bad :
         {R"("shard":[3,2])", R"("shard":[0,2])", R"("shard":"1/2")", R"("shard":[1])"}) {
        const auto d = decode_run_summary(
            std::string(R"({"type":"run_summary","run":"r","qos":1,"published":1,"confirmed":1,)") +
            bad + R"(,"devices":[]})");
        EXPECT_FALSE(d.summary) << bad;
        EXPECT_NE(d.error.find("shard"), std::string::npos) << d.error;
    }
}

TEST(RunSummaryCodec, RejectsATelemetryReading) {
    const auto d = decode_run_summary(R"({"v":1,"run":"r","dev":"d","seq":1})");
    EXPECT_FALSE(d.summary);
    EXPECT_NE(d.error.find("run_summary"), std::string::npos);
}

TEST(RunSummaryCodec, RejectsMissingDevices) {
    const auto d = decode_run_summary(
        R"({"type":"run_summary","run":"r","qos":1,"published":1,"confirmed":1})");
    EXPECT_FALSE(d.summary);
}

TEST(RunSummaryCodec, RejectsNegativeCounts) {
    const auto d = decode_run_summary(
        R"({"type":"run_summary","run":"r","qos":1,"published":1,"confirmed":1,"devices":[{"dev":"d","count":-1,"last_seq":1}]})");
    EXPECT_FALSE(d.summary);
}

TEST(RunSummaryCodec, DevicesMustBeAListOfObjectsWithValidIds) {
    const std::string head = R"({"type":"run_summary","run":"r","qos":1,"published":1,)"
                             R"("confirmed":1,"devices":)";
    for (const char* devices :
         {R"(7})", R"([1,2]})", R"([{"dev":"d","count":1,"last_seq":1},"x"]})",
          R"([{"dev":"no spaces","count":1,"last_seq":1}]})", R"([{"count":1,"last_seq":1}]})"}) {
        const auto d = decode_run_summary(head + devices);
        EXPECT_FALSE(d.summary) << devices;
        EXPECT_NE(d.error.find("run summary"), std::string::npos) << d.error;
    }
}

TEST(RunSummaryCodec, ManyDevicesDecodeInOrderWithoutADocumentOfThem) {
    RunSummary s{"r", 1, 3000, 3000, false, {}};
    for (int i = 0; i < 3000; ++i) s.devices.push_back({"dev-" + std::to_string(i), 1, 1, {}, {}});
    const auto d = decode_run_summary(encode_run_summary(s));
    ASSERT_TRUE(d.summary) << d.error;
    EXPECT_EQ(*d.summary, s);
}

TEST(RunSummaryClaim, DiffersWhenAnyClaimDiffersAndIgnoresTheScheduleLag) {
    const RunSummary base{"r", 1,     10,
                          10,  false, {{"dev-a", 5, 5, {}, {}}, {"dev-b", 5, 5, {}, {}}}};
    RunSummary lagging = base;
    lagging.behind_schedule_ms = 12.5;
    EXPECT_EQ(claim_digest(base), claim_digest(lagging));
    RunSummary other_way = base;  // a resumed publisher may come back over another transport
    other_way.devices[0].transport = "ws";
    EXPECT_EQ(claim_digest(base), claim_digest(other_way));
    RunSummary fewer = base;
    fewer.devices[1].last_seq = 4;
    RunSummary renamed = base;  // "dev-a"+"dev-b" against "dev-ad"+"ev-b": same bytes in a row
    renamed.devices[0].device = "dev-ad";
    renamed.devices[1].device = "ev-b";
    RunSummary interrupted = base;
    interrupted.interrupted = true;
    for (const RunSummary* other : {&fewer, &renamed, &interrupted})
        EXPECT_NE(claim_digest(base), claim_digest(*other));
}

TEST(RunSummaryCodec, EachDeviceMaySayHowItReachedTheBroker) {
    const RunSummary s{"r", 1, 3, 3, false, {{"a", 1, 1, "ws", {}}, {"b", 2, 2, {}, {}}}};
    const std::string text = encode_run_summary(s);
    EXPECT_NE(text.find(R"({"dev":"a","count":1,"last_seq":1,"via":"ws"})"), std::string::npos)
        << text;
    EXPECT_NE(text.find(R"({"dev":"b","count":2,"last_seq":2})"), std::string::npos) << text;
    EXPECT_EQ(decode_run_summary(text).summary, s);
    const auto bad = decode_run_summary(
        R"({"type":"run_summary","v":1,"run":"r","qos":1,"published":1,"confirmed":1,)"
        R"("interrupted":false,"devices":[{"dev":"a","count":1,"last_seq":1,"via":"w s"}]})");
    EXPECT_FALSE(bad.summary);
    EXPECT_NE(bad.error.find("transport"), std::string::npos) << bad.error;
}

TEST(RunSummaryCodec, EachDeviceMaySayItsTopicWhichIsPartOfTheClaim) {
    const RunSummary s{"r", 1, 1, 1, false, {{"a", 1, 1, {}, "sensors/a"}}};
    const std::string text = encode_run_summary(s);
    EXPECT_NE(text.find(R"({"dev":"a","count":1,"last_seq":1,"topic":"sensors/a"})"),
              std::string::npos)
        << text;
    EXPECT_EQ(decode_run_summary(text).summary, s);
    RunSummary elsewhere = s;
    elsewhere.devices[0].topic = "sensors/b";
    EXPECT_NE(claim_digest(s), claim_digest(elsewhere));
    for (const char* topic : {R"("")", R"("sensors/+")", R"("sensors/#")", "7"}) {
        const auto bad = decode_run_summary(
            std::string(R"({"type":"run_summary","v":1,"run":"r","qos":1,"published":1,)") +
            R"("confirmed":1,"interrupted":false,"devices":[{"dev":"a","count":1,"last_seq":1,)" +
            R"("topic":)" + topic + "}]}");
        EXPECT_FALSE(bad.summary) << topic;
    }
}

TEST(RunSummaryCodec, ATypeThatIsNotAStringIsAnErrorNotACrash) {
    // Found by fuzz/control_decode_fuzz: {"type":1} threw from the decoder.
    for (const char* payload : {R"({"type":1,"run":"r"})", R"({"type":null})", R"({"type":[]})"}) {
        const auto d = decode_run_summary(payload);
        EXPECT_FALSE(d.summary) << payload;
        EXPECT_NE(d.error.find("type"), std::string::npos) << payload;
        EXPECT_FALSE(decode_run_progress(payload)) << payload;
    }
}

TEST(RunProgressCodec, AShardSaysWhichAndOnlyWhenSharded) {
    const RunProgress p{"abc", 50, 40, 2, 3};
    const std::string encoded = encode_run_progress(p);
    EXPECT_NE(encoded.find(R"("shard":[2,3])"), std::string::npos) << encoded;
    EXPECT_EQ(decode_run_progress(encoded), p);
    EXPECT_EQ(encode_run_progress({"abc", 50, 40}).find("shard"), std::string::npos);
    EXPECT_FALSE(decode_run_progress(
        R"({"type":"run_progress","run":"a","published":1,"confirmed":0,"shard":[3,2]})"));
}

TEST(RunProgressCodec, RoundTripsAndIsNotASummary) {
    const RunProgress p{"abc", 5000, 4000};
    const std::string encoded = encode_run_progress(p);
    EXPECT_EQ(decode_run_progress(encoded), p);
    EXPECT_FALSE(decode_run_summary(encoded).summary);
    EXPECT_FALSE(decode_run_progress(encode_run_summary(RunSummary{"abc", 1, 1, 1, false, {}})));
    EXPECT_FALSE(
        decode_run_progress(R"({"type":"run_progress","run":"a","published":-1,"confirmed":0})"));
}

}  // namespace
}  // namespace telemetry

namespace telemetry {
namespace {

// The control messages byte for byte as docs/reference.md documents them (fields, order, spelling),
// so that a consumer written from that page reads what we send.
TEST(ControlMessagesAsDocumented, RunSummaryEncodesToTheReadmeForm) {
    const RunSummary s{
        "9f3a1c2e",
        1,
        1000000,
        1000000,
        false,
        {{"sensor-0001", 100000, 100000, {}, {}}, {"sensor-0002", 100000, 100000, {}, {}}}};
    EXPECT_EQ(encode_run_summary(s),
              R"({"type":"run_summary","v":1,"run":"9f3a1c2e","qos":1,"published":1000000,)"
              R"("confirmed":1000000,"interrupted":false,"devices":[)"
              R"({"dev":"sensor-0001","count":100000,"last_seq":100000},)"
              R"({"dev":"sensor-0002","count":100000,"last_seq":100000}]})");
}

TEST(ControlMessagesAsDocumented, RunSummaryFromTheReadmeDecodes) {
    const auto d = decode_run_summary(
        R"({"type":"run_summary","v":1,"run":"9f3a1c2e","qos":1,"published":1000000,)"
        R"("confirmed":1000000,"interrupted":false,"devices":[)"
        R"({"dev":"sensor-0001","count":100000,"last_seq":100000}]})");
    ASSERT_TRUE(d.summary) << d.error;
    EXPECT_EQ(
        *d.summary,
        (RunSummary{
            "9f3a1c2e", 1, 1000000, 1000000, false, {{"sensor-0001", 100000, 100000, {}, {}}}}));
}

TEST(ControlMessagesAsDocumented, RunProgressEncodesToTheReadmeForm) {
    EXPECT_EQ(
        encode_run_progress({"9f3a1c2e", 52000, 51000}),
        R"({"type":"run_progress","v":1,"run":"9f3a1c2e","published":52000,"confirmed":51000})");
    EXPECT_EQ(
        decode_run_progress(
            R"({"type":"run_progress","v":1,"run":"9f3a1c2e","published":52000,"confirmed":51000})"),
        (RunProgress{"9f3a1c2e", 52000, 51000}));
}

}  // namespace
}  // namespace telemetry

#include "telemetry/payload.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace telemetry {
namespace {

// Completes a payload body (without its closing brace) with a correct checksum, so that the
// schema cases below test the schema and not the checksum.
std::string with_crc(std::string_view body) {
    return std::string(body) + fmt::format(R"(,"crc":"{:08x}"}})", payload_crc(body));
}

Reading sample() {
    return Reading{"run-1", "sensor-0001", 42, 1764102213123456, 21.53, 45.2, 1013.25, 99.87};
}

TEST(PayloadCodec, RoundTripsAReading) {
    std::string buffer;
    const DecodedReading decoded = decode_reading(encode_reading(sample(), buffer));
    ASSERT_TRUE(decoded.reading) << decoded.error;
    EXPECT_EQ(*decoded.reading, sample());
}

TEST(PayloadCodec, EncodesTheDocumentedSchemaExactly) {
    std::string buffer;
    EXPECT_EQ(encode_reading(sample(), buffer),
              R"({"v":1,"run":"run-1","dev":"sensor-0001","seq":42,"ts":1764102213123456,)"
              R"("temp":21.53,"hum":45.20,"pres":1013.25,"batt":99.87,"crc":"bc0310a7"})");
}

TEST(PayloadCodec, AFaultAndALowBatteryAreMarkedOnlyWhenTheyHappen) {
    Reading r = sample();
    r.fault = SensorFault::Dropout;
    r.temperature_c = -127.0;
    r.battery_low = true;
    std::string buffer;
    const std::string payload(encode_reading(r, buffer));
    EXPECT_NE(payload.find(R"("temp":-127.00,)"), std::string::npos) << payload;
    EXPECT_NE(payload.find(R"(,"fault":"dropout","batt_low":true,"crc":)"), std::string::npos)
        << payload;
    const DecodedReading decoded = decode_reading(payload);
    ASSERT_TRUE(decoded.reading) << decoded.error;
    EXPECT_EQ(*decoded.reading, r);
    for (const auto f : {SensorFault::Stuck, SensorFault::Spike}) {
        r.fault = f;
        EXPECT_EQ(decode_reading(encode_reading(r, buffer)).reading->fault, f);
    }
}

TEST(PayloadCodec, WritesNegativeAndRoundedValuesWithTwoDecimals) {
    Reading r = sample();
    r.temperature_c = -0.046;
    r.humidity_pct = 0.005;
    r.pressure_hpa = 999.999;
    r.battery_pct = 7;
    std::string buffer;
    const std::string_view s = encode_reading(r, buffer);
    EXPECT_NE(s.find(R"("temp":-0.05,"hum":0.01,"pres":1000.00,"batt":7.00,"crc":")"),
              std::string::npos)
        << s;
}

TEST(PayloadCodec, AcceptsFieldsInAnyOrderAndUnknownFields) {
    const auto d = decode_reading(with_crc(
        R"({"seq":7,"dev":"d1","run":"r","v":1,"ts":5,"temp":-3,"hum":0,"pres":900.5,"batt":100,"fw":"2.1")"));
    ASSERT_TRUE(d.reading) << d.error;
    EXPECT_EQ(d.reading->seq, 7u);
    EXPECT_EQ(d.reading->device, "d1");
}

struct MalformedCase {
    const char* name;
    const char* payload;
    const char* error_mentions;
};
// Names the case in test output instead of dumping its bytes.
void PrintTo(const MalformedCase& c, std::ostream* os) {
    *os << c.name;
}

class PayloadMalformed : public testing::TestWithParam<MalformedCase> {};

TEST_P(PayloadMalformed, IsRejectedWithAReason) {
    // Each case gets a correct checksum: it is the schema that must reject it.
    std::string_view body = GetParam().payload;
    if (!body.empty() && body.back() == '}') body.remove_suffix(1);
    const auto d = decode_reading(with_crc(body));
    EXPECT_FALSE(d.reading);
    EXPECT_EQ(d.problem, DecodeProblem::Malformed);
    EXPECT_NE(d.error.find(GetParam().error_mentions), std::string::npos) << d.error;
}

TEST(PayloadChecksum, MissingChecksumIsMalformed) {
    const auto d = decode_reading(
        R"({"v":1,"run":"r","dev":"d","seq":1,"ts":5,"temp":20,"hum":50,"pres":1000,"batt":90})");
    EXPECT_EQ(d.problem, DecodeProblem::Malformed);
    EXPECT_NE(d.error.find("crc"), std::string::npos) << d.error;
}

TEST(PayloadChecksum, NonHexChecksumIsMalformed) {
    const auto d = decode_reading(R"({"v":1,"crc":"zzzzzzzz"})");
    EXPECT_EQ(d.problem, DecodeProblem::Malformed);
}

TEST(PayloadChecksum, EveryFlippedBitIsCorrupt) {
    std::string buffer;
    const std::string good(encode_reading(sample(), buffer));
    const std::size_t body = good.size() - kCrcSuffixSize;
    for (std::size_t i = 0; i < body; ++i) {
        std::string bad = good;
        bad[i] = static_cast<char>(bad[i] ^ 0x04);
        const auto d = decode_reading(bad);
        ASSERT_FALSE(d.reading) << "byte " << i;
        ASSERT_EQ(d.problem, DecodeProblem::Corrupt) << "byte " << i << ": " << d.error;
    }
}

TEST(PayloadChecksum, CorruptionThatStillParsesIsCaught) {
    std::string buffer;
    std::string bad(encode_reading(sample(), buffer));
    bad.replace(bad.find("\"seq\":42"), 8, "\"seq\":43");  // valid JSON, wrong content
    const auto d = decode_reading(bad);
    EXPECT_EQ(d.problem, DecodeProblem::Corrupt);
    EXPECT_NE(d.error.find("checksum mismatch"), std::string::npos);
}

constexpr const char* kValid =
    R"("v":1,"run":"r","dev":"d","ts":5,"temp":20,"hum":50,"pres":1000,"batt":90)";

INSTANTIATE_TEST_SUITE_P(
    Schema, PayloadMalformed,
    testing::Values(
        MalformedCase{"empty", "", "JSON"},
        MalformedCase{"truncated", R"({"v":1,"run":"r","dev":)", "\"dev\""},
        MalformedCase{"binary", "\x01\x02\xff", "JSON"},
        MalformedCase{"array", "[1,2,3]", "object"},
        MalformedCase{"wrong_version", R"({"v":2,"run":"r","dev":"d","seq":1})", "\"v\""},
        MalformedCase{
            "missing_seq",
            R"({"v":1,"run":"r","dev":"d","ts":5,"temp":20,"hum":50,"pres":1000,"batt":90})",
            "\"seq\""},
        MalformedCase{
            "zero_seq",
            R"({"seq":0,"v":1,"run":"r","dev":"d","ts":5,"temp":20,"hum":50,"pres":1000,"batt":90})",
            "\"seq\""},
        MalformedCase{
            "negative_seq",
            R"({"seq":-4,"v":1,"run":"r","dev":"d","ts":5,"temp":20,"hum":50,"pres":1000,"batt":90})",
            "\"seq\""},
        MalformedCase{
            "fractional_seq",
            R"({"seq":1.5,"v":1,"run":"r","dev":"d","ts":5,"temp":20,"hum":50,"pres":1000,"batt":90})",
            "\"seq\""},
        MalformedCase{
            "string_seq",
            R"({"seq":"1","v":1,"run":"r","dev":"d","ts":5,"temp":20,"hum":50,"pres":1000,"batt":90})",
            "\"seq\""},
        MalformedCase{
            "device_with_slash",
            R"({"seq":1,"v":1,"run":"r","dev":"a/b","ts":5,"temp":20,"hum":50,"pres":1000,"batt":90})",
            "\"dev\""},
        MalformedCase{
            "empty_run",
            R"({"seq":1,"v":1,"run":"","dev":"d","ts":5,"temp":20,"hum":50,"pres":1000,"batt":90})",
            "\"run\""},
        MalformedCase{
            "humidity_over_100",
            R"({"seq":1,"v":1,"run":"r","dev":"d","ts":5,"temp":20,"hum":101,"pres":1000,"batt":90})",
            "\"hum\""},
        MalformedCase{
            "battery_missing",
            R"({"seq":1,"v":1,"run":"r","dev":"d","ts":5,"temp":20,"hum":50,"pres":1000})",
            "\"batt\""},
        MalformedCase{
            "unknown_fault",
            R"({"seq":1,"v":1,"run":"r","dev":"d","ts":5,"temp":20,"hum":50,"pres":1000,"batt":90,"fault":"melted"})",
            "\"fault\""},
        MalformedCase{
            "battery_low_not_a_boolean",
            R"({"seq":1,"v":1,"run":"r","dev":"d","ts":5,"temp":20,"hum":50,"pres":1000,"batt":90,"batt_low":1})",
            "\"batt_low\""},
        MalformedCase{
            "temperature_string",
            R"({"seq":1,"v":1,"run":"r","dev":"d","ts":5,"temp":"hot","hum":50,"pres":1000,"batt":90})",
            "\"temp\""}),
    [](const testing::TestParamInfo<MalformedCase>& p) { return std::string(p.param.name); });

TEST(PayloadCodec, ValidBaseOfTheMalformedTableDecodes) {
    // Guards the table above: each case breaks exactly one thing of this valid payload.
    const auto d = decode_reading(with_crc(std::string("{\"seq\":1,") + kValid));
    EXPECT_TRUE(d.reading) << d.error;
}

TEST(PlainIdentifier, AllowsTopicSafeCharactersOnly) {
    EXPECT_TRUE(is_plain_identifier("sensor-0001"));
    EXPECT_TRUE(is_plain_identifier("a.b_C-9"));
    EXPECT_FALSE(is_plain_identifier(""));
    EXPECT_FALSE(is_plain_identifier("a+b"));
    EXPECT_FALSE(is_plain_identifier("a#"));
    EXPECT_FALSE(is_plain_identifier("quote\""));
    EXPECT_FALSE(is_plain_identifier(std::string(65, 'x')));
}

}  // namespace
}  // namespace telemetry

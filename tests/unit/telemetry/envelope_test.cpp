#include "telemetry/envelope.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <zlib.h>

namespace telemetry {
namespace {

Reading short_reading() {
    return Reading{"r1", "d1", 7, 1764102213123456, 21.53, 45.2, 1013.25, 99.87};
}

// An envelope written field by field from the layout in docs/reference.md, with a correct
// length and checksum, so that each case below tests one field.
struct Fields {
    std::string magic{"MT"};
    std::uint8_t version{1};
    std::uint8_t kind{0};
    std::string run{"r1"};
    std::string device{"d1"};
    std::uint64_t seq{7};
    std::uint64_t ts{1764102213123456};
    std::string body{"abc"};
};

void big_endian(std::string& out, std::uint64_t value, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(value >> (8 * i)));
}

std::string build(const Fields& f) {
    std::string out = f.magic;
    big_endian(out, f.version, 1);
    big_endian(out, f.kind, 1);
    big_endian(out, 30 + f.run.size() + f.device.size() + f.body.size(), 4);
    big_endian(out, f.run.size(), 1);
    out += f.run;
    big_endian(out, f.device.size(), 1);
    out += f.device;
    big_endian(out, f.seq, 8);
    big_endian(out, f.ts, 8);
    out += f.body;
    big_endian(out, crc32_z(0, reinterpret_cast<const Bytef*>(out.data()), out.size()), 4);
    return out;
}

std::string packed(std::int32_t temp, std::uint16_t hum, std::uint32_t pres, std::uint16_t batt,
                   std::uint8_t fault, std::uint8_t flags) {
    std::string out;
    big_endian(out, static_cast<std::uint32_t>(temp), 4);
    big_endian(out, hum, 2);
    big_endian(out, pres, 4);
    big_endian(out, batt, 2);
    big_endian(out, fault, 1);
    big_endian(out, flags, 1);
    return out;
}

TEST(Envelope, IsWrittenByteForByteAsDocumented) {
    std::string out;
    open_envelope(short_reading(), BodyKind::SensorReading, envelope_size(2, 2, kPackedReadingSize),
                  out);
    append_packed_reading(short_reading(), out);
    seal_envelope(out);
    Fields f;
    f.kind = 1;
    f.body = packed(2153, 4520, 101325, 9987, 0, 0);
    EXPECT_EQ(out, build(f));
}

// The example in docs/reference.md, byte for byte.
TEST(Envelope, TheDocumentedExampleIsExact) {
    std::string hex;
    for (const char c : build({})) hex += fmt::format("{:02x}", static_cast<unsigned char>(c));
    EXPECT_EQ(hex,
              "4d54010000000025027231026431000000000000000700"
              "0644710dc2bd80616263a1f93f49");
}

TEST(Envelope, AnOpaqueBodyGivesTheIdsSeqAndTimeWithoutValues) {
    const auto d = decode_envelope(build({}));
    ASSERT_TRUE(d.reading) << d.error;
    EXPECT_EQ(d.reading->run, "r1");
    EXPECT_EQ(d.reading->device, "d1");
    EXPECT_EQ(d.reading->seq, 7u);
    EXPECT_EQ(d.reading->ts_us, 1764102213123456);
    EXPECT_FALSE(d.has_values);
    EXPECT_EQ(envelope_body(build({})), "abc");
}

TEST(Envelope, APackedReadingGivesItsValuesAndMayBeFollowedByFiller) {
    Fields f;
    f.kind = 1;
    f.body = packed(-4025, 10000, 99000, 1500, 3, 1) + "filler";
    const auto d = decode_envelope(build(f));
    ASSERT_TRUE(d.reading) << d.error;
    EXPECT_DOUBLE_EQ(d.reading->temperature_c, -40.25);
    EXPECT_DOUBLE_EQ(d.reading->humidity_pct, 100.0);
    EXPECT_DOUBLE_EQ(d.reading->pressure_hpa, 990.0);
    EXPECT_DOUBLE_EQ(d.reading->battery_pct, 15.0);
    EXPECT_EQ(d.reading->fault, SensorFault::Dropout);
    EXPECT_TRUE(d.reading->battery_low);
    EXPECT_EQ(d.content, content_digest(*d.reading));
}

// Each field's rule, with a correct length and checksum: malformed, with the field named.
TEST(Envelope, EachBrokenFieldIsMalformedAndNamed) {
    const auto with = [](auto change) {
        Fields f;
        change(f);
        return build(f);
    };
    const std::pair<std::string, std::string> cases[] = {
        {with([](Fields& f) { f.version = 2; }), "version"},
        {with([](Fields& f) { f.kind = 6; }), "body kind"},
        {with([](Fields& f) { f.kind = 3; }), "not a protobuf Reading"},
        {with([](Fields& f) { f.run = ""; }), "run id"},
        {with([](Fields& f) { f.run = "a b"; }), "run id"},
        {with([](Fields& f) { f.device = std::string(65, 'd'); }), "device id"},
        {with([](Fields& f) { f.seq = 0; }), "sequence number"},
        {with([](Fields& f) { f.ts = 0; }), "send time"},
        {with([](Fields& f) { f.ts = ~0ull; }), "send time"},
        {with([](Fields& f) { f.kind = 1; }), "packed reading has 14 bytes"},
        {with([](Fields& f) { f.kind = 1, f.body = packed(0, 0, 0, 0, 4, 0); }), "fault"},
        {with([](Fields& f) { f.kind = 1, f.body = packed(0, 0, 0, 0, 0, 2); }), "flags"},
        {with([](Fields& f) { f.kind = 1, f.body = packed(0, 10001, 0, 0, 0, 0); }), "range"},
        {with([](Fields& f) { f.kind = 1, f.body = packed(-27316, 0, 0, 0, 0, 0); }), "range"},
    };
    for (const auto& [payload, named] : cases) {
        const auto d = decode_envelope(payload);
        EXPECT_FALSE(d.reading) << named;
        EXPECT_EQ(d.problem, DecodeProblem::Malformed) << named;
        EXPECT_NE(d.error.find(named), std::string::npos) << d.error;
    }
}

TEST(Envelope, ALengthThatIsNotTheMessagesIsMalformedAChecksumThatIsNotCorrupt) {
    std::string extended = build({});
    extended.push_back('x');
    EXPECT_NE(decode_envelope(extended).error.find("truncated or extended"), std::string::npos);
    std::string damaged = build({});
    damaged[damaged.size() - 1] ^= 1;
    const auto d = decode_envelope(damaged);
    EXPECT_EQ(d.problem, DecodeProblem::Corrupt);
    EXPECT_NE(d.error.find("checksum mismatch"), std::string::npos);
}

}  // namespace
}  // namespace telemetry

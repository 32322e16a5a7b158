#include "telemetry/structured_body.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vector>

#include "telemetry/payload_encoder.hpp"

namespace telemetry {
namespace {

constexpr BodyKind kKinds[] = {BodyKind::Protobuf, BodyKind::Cbor, BodyKind::MessagePack};
constexpr PayloadFormat kStructured[] = {PayloadFormat::Protobuf, PayloadFormat::Cbor,
                                         PayloadFormat::MessagePack};

Reading structured_sample() {
    return Reading{"run-1", "sensor-0001", 42,    1764102213123456,   -21.53,
                   45.2,    1013.25,       99.87, SensorFault::Spike, true};
}

std::string body_of(BodyKind kind, const Reading& r = structured_sample(),
                    std::string_view pad = {}) {
    std::string out;
    append_structured_body(kind, r, pad, out);
    return out;
}

// What the envelope of structured_sample() says; the body is read against it.
Reading envelope_of_sample() {
    const Reading s = structured_sample();
    Reading r;
    r.run = s.run;
    r.device = s.device;
    r.seq = s.seq;
    r.ts_us = s.ts_us;
    return r;
}

std::optional<std::string> read(BodyKind kind, std::string_view body) {
    Reading r = envelope_of_sample();
    return read_structured_body(kind, body, r);
}

// The map of structured_sample() as another producer might write it: its own key order, integers
// where a value is whole, an unknown key.
nlohmann::json other_producers_map() {
    return {{"ts", 1764102213123456}, {"seq", 42},   {"dev", "sensor-0001"}, {"batt", 100},
            {"pres", 1013.25},        {"hum", 45.2}, {"temp", -21.53},       {"site", "north"}};
}

std::string as_body(BodyKind kind, const nlohmann::json& map) {
    const auto bytes =
        kind == BodyKind::Cbor ? nlohmann::json::to_cbor(map) : nlohmann::json::to_msgpack(map);
    return {bytes.begin(), bytes.end()};
}

TEST(StructuredBody, EachEncodingCarriesTheReadingAsJsonDoes) {
    std::string json;
    PayloadEncoder(PayloadSpec{PayloadFormat::Json}).encode(structured_sample(), json);
    const auto expected = decode_payload(json);
    for (const auto format : kStructured) {
        std::string payload;
        PayloadEncoder(PayloadSpec{format}).encode(structured_sample(), payload);
        const auto d = decode_payload(payload);
        ASSERT_TRUE(d.reading) << format_name(format) << ": " << d.error;
        EXPECT_EQ(*d.reading, *expected.reading) << format_name(format);
        EXPECT_EQ(d.content, expected.content) << format_name(format);
        EXPECT_TRUE(d.has_values);
    }
}

TEST(StructuredBody, AMapFromAnotherProducerIsRead) {
    for (const auto kind : {BodyKind::Cbor, BodyKind::MessagePack}) {
        Reading r = envelope_of_sample();
        ASSERT_EQ(read_structured_body(kind, as_body(kind, other_producers_map()), r), std::nullopt)
            << body_kind_name(kind);
        EXPECT_EQ(r.battery_pct, 100.0);
        EXPECT_EQ(r.temperature_c, -21.53);
        EXPECT_EQ(r.fault, SensorFault::None);
        EXPECT_EQ(r.run, "run-1") << "the run id stays the envelope's";
    }
}

// CBOR written by hand (RFC 8949): an indefinite-length map, a half-precision float.
TEST(StructuredBody, ACborMapOfIndefiniteLengthWithHalfFloatsIsRead) {
    std::string body = "\xbf";
    const auto text = [&](std::string_view s) {
        body += static_cast<char>(0x60 + s.size());
        body += s;
    };
    text("dev");
    text("sensor-0001");
    text("seq");
    body += "\x18\x2a";  // 42
    text("ts");
    body += std::string("\x1b\x00\x06\x44\x71\x0d\xc2\xbd\x80", 9);  // 1764102213123456
    for (const char* key : {"temp", "hum", "pres", "batt"}) {
        text(key);
        body += std::string("\xf9\x3c\x00", 3);  // 1.0 as a half float
    }
    body += "\xff";
    Reading r = envelope_of_sample();
    ASSERT_EQ(read_structured_body(BodyKind::Cbor, body, r), std::nullopt);
    EXPECT_EQ(r.pressure_hpa, 1.0);
}

TEST(StructuredBody, EachBrokenRuleIsMalformedAndNamed) {
    const auto with = [](const char* key, nlohmann::json value) {
        nlohmann::json map = other_producers_map();
        if (value.is_null())
            map.erase(key);
        else
            map[key] = std::move(value);
        return map;
    };
    const std::pair<nlohmann::json, const char*> cases[] = {
        {with("temp", nullptr), R"(no "temp")"},
        {with("dev", "sensor-0002"), R"("dev" "sensor-0002" is not the envelope's)"},
        {with("dev", "a b"), R"("dev" must be an identifier)"},
        {with("seq", 43), R"("seq" 43 is not the envelope's 42)"},
        {with("seq", 0), R"(no "seq")"},
        {with("ts", 5), R"("ts" 5 is not the envelope's)"},
        {with("hum", 100.5), R"("hum" must be within [0, 100])"},
        {with("temp", "warm"), R"(no "temp")"},
        {with("fault", "melted"), R"("fault" must be "stuck", "spike" or "dropout")"},
        {nlohmann::json::array({1, 2}), "not a map"},
        {with("site", {{"a", {{"b", {{"c", {{"d", 1}}}}}}}}), "nests more than 4 levels"},
    };
    for (const auto kind : {BodyKind::Cbor, BodyKind::MessagePack})
        for (const auto& [map, expected] : cases) {
            const auto problem = read(kind, as_body(kind, map));
            ASSERT_TRUE(problem) << body_kind_name(kind) << ": " << map.dump();
            EXPECT_NE(problem->find(expected), std::string::npos)
                << body_kind_name(kind) << ": " << *problem;
        }
    EXPECT_NE(read(BodyKind::Cbor, as_body(BodyKind::Cbor, other_producers_map()) + "x")
                  ->find("not a valid body"),
              std::string::npos)
        << "bytes after the map";
    EXPECT_NE(read(BodyKind::Protobuf, "\xff\xff\xff")->find("not a protobuf Reading"),
              std::string::npos);
    EXPECT_NE(read(BodyKind::Protobuf, body_of(BodyKind::Protobuf) + "\x40\x07")
                  ->find(R"("fault" must be NONE)"),
              std::string::npos)
        << "fault 7";
}

TEST(StructuredBody, AMalformedProtobufIsReportedOnceByTheCallerNotLoggedByTheLibrary) {
    std::string body = body_of(BodyKind::Protobuf);
    body[2] = '\xff';  // inside "dev": no longer UTF-8
    testing::internal::CaptureStderr();
    const auto problem = read(BodyKind::Protobuf, body);
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
    ASSERT_TRUE(problem);
    EXPECT_NE(problem->find("not a protobuf Reading"), std::string::npos) << *problem;
}

TEST(StructuredBody, AFillerBringsTheBodyToItsSizeOrTheNearestAbove) {
    for (const auto kind : kKinds) {
        const std::size_t bare = body_of(kind).size();
        std::size_t exact = 0;
        std::size_t sizes = 0;
        std::vector<std::size_t> targets;  // every length header's steps: 24, 128, 256, 65,536
        for (std::size_t t = bare + 1; t < bare + 400; ++t) targets.push_back(t);
        for (std::size_t t = 65'500; t < 65'600; ++t) targets.push_back(t);
        for (const std::size_t target : targets) {
            const std::size_t n = structured_pad_length(kind, bare, target);
            const std::string body = body_of(kind, structured_sample(), std::string(n, 'p'));
            ASSERT_GE(body.size(), target) << body_kind_name(kind);
            ASSERT_LE(body.size(), target + 6) << body_kind_name(kind) << " " << target;
            EXPECT_FALSE(read(kind, body)) << body_kind_name(kind) << " " << target;
            exact += body.size() == target;
            ++sizes;
        }
        EXPECT_GT(exact * 100, sizes * 97) << body_kind_name(kind) << ": exact nearly always";
        EXPECT_EQ(structured_pad_length(kind, bare, bare), 0u);
    }
}

TEST(StructuredBody, AKindsNameInTheUserPropertiesReadsBack) {
    for (std::uint8_t k = 0; k <= kLastBodyKind; ++k) {
        const auto kind = static_cast<BodyKind>(k);
        EXPECT_EQ(parse_body_kind(body_kind_name(kind)), kind);
    }
    EXPECT_EQ(parse_body_kind("xml"), std::nullopt);
}

}  // namespace
}  // namespace telemetry

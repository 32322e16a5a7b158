#include "telemetry/property_envelope.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "telemetry/payload_encoder.hpp"

namespace telemetry {
namespace {

Reading property_reading() {
    return Reading{"run-1", "sensor-0001", 42, 1764102213123456, 21.5, 45.25, 1013.0, 80.0};
}

// A body and its properties as the publisher sends them, the properties as owned strings.
struct Sent {
    std::string body;
    std::vector<std::pair<std::string, std::string>> properties;
    std::vector<KeyValue> views() const {
        std::vector<KeyValue> out;
        for (const auto& [k, v] : properties) out.push_back({k, v});
        return out;
    }
    void set(const std::string& key, const std::string& value) {
        for (auto& [k, v] : properties)
            if (k == key) v = value;
    }
};

Sent sent(PayloadFormat format, std::size_t size = 0) {
    PayloadEncoder encoder(PayloadSpec{format, {size, size}, Envelope::Properties});
    Sent s;
    encoder.encode(property_reading(), s.body);
    for (const KeyValue& p : encoder.properties()->pairs())
        s.properties.emplace_back(p.key, p.value);
    return s;
}

TEST(PropertyEnvelope, TheBodyIsUntouchedAndExactlyTheSizeAsked) {
    EXPECT_EQ(sent(PayloadFormat::Random, 16).body.size(), 16u);
    EXPECT_EQ(sent(PayloadFormat::Random, 1).body.size(), 1u);
    EXPECT_EQ(sent(PayloadFormat::Binary).body.size(), kPackedReadingSize);
    EXPECT_EQ(sent(PayloadFormat::Binary, 100).body.size(), 100u);
}

TEST(PropertyEnvelope, CarriesTheDocumentedPropertiesInOrder) {
    const Sent s = sent(PayloadFormat::Random, 16);
    ASSERT_EQ(s.properties.size(), 7u);
    const std::vector<std::string> keys{"mt-v",  "mt-run",  "mt-dev", "mt-seq",
                                        "mt-ts", "mt-body", "mt-crc"};
    for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(s.properties[i].first, keys[i]);
    EXPECT_EQ(s.properties[3].second, "42");
    EXPECT_EQ(s.properties[4].second, "1764102213123456");
    EXPECT_EQ(s.properties[5].second, "opaque");
    EXPECT_EQ(s.properties[6].second.size(), 8u);
}

TEST(PropertyEnvelope, EachFormatDecodesFromItsBodyAndProperties) {
    for (const auto format : {PayloadFormat::Binary, PayloadFormat::Random}) {
        const Sent s = sent(format, 64);
        const auto views = s.views();
        const auto d = decode_payload(s.body, views);
        ASSERT_TRUE(d.reading) << d.error;
        EXPECT_EQ(d.reading->run, "run-1");
        EXPECT_EQ(d.reading->device, "sensor-0001");
        EXPECT_EQ(d.reading->seq, 42u);
        EXPECT_EQ(d.reading->ts_us, 1764102213123456);
        EXPECT_EQ(d.has_values, format == PayloadFormat::Binary);
        if (format == PayloadFormat::Binary) {
            EXPECT_DOUBLE_EQ(d.reading->pressure_hpa, 1013.0);
        }
    }
}

TEST(PropertyEnvelope, ADamagedOrShortenedBodyIsCorrupt) {
    const Sent s = sent(PayloadFormat::Random, 64);
    const auto views = s.views();
    for (std::size_t i = 0; i < s.body.size(); ++i) {
        std::string bad = s.body;
        bad[i] = static_cast<char>(bad[i] ^ 0x40);
        EXPECT_EQ(decode_payload(bad, views).problem, DecodeProblem::Corrupt) << i;
    }
    EXPECT_EQ(decode_payload(std::string_view(s.body).substr(0, 63), views).problem,
              DecodeProblem::Corrupt);
}

TEST(PropertyEnvelope, EachMissingOrBrokenPropertyIsMalformedAndNamed) {
    const std::pair<std::string, std::string> broken[] = {
        {"mt-v", "2"},      {"mt-run", ""},         {"mt-dev", "a/b"},
        {"mt-seq", "0"},    {"mt-seq", "12x"},      {"mt-ts", "-5"},
        {"mt-body", "xml"}, {"mt-crc", "ABCDEF12"}, {"mt-crc", "123"},
    };
    for (const auto& [key, value] : broken) {
        Sent s = sent(PayloadFormat::Random, 16);
        s.set(key, value);
        const auto views = s.views();
        const auto d = decode_payload(s.body, views);
        EXPECT_EQ(d.problem, DecodeProblem::Malformed) << key << "=" << value;
        EXPECT_NE(d.error.find(key), std::string::npos) << d.error;
    }
    Sent s = sent(PayloadFormat::Random, 16);
    s.properties.erase(s.properties.begin() + 3);  // mt-seq
    const auto views = s.views();
    EXPECT_EQ(decode_payload(s.body, views).error, "user property mt-seq is missing");
}

TEST(PropertyEnvelope, PropertiesWithoutItAreIgnoredForTheBodysOwnForm) {
    std::string json;
    encode_reading(property_reading(), json);
    const std::vector<KeyValue> other{{"content", "json"}};
    EXPECT_TRUE(decode_payload(json, other).reading);
}

}  // namespace
}  // namespace telemetry

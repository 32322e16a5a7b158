#include "telemetry/payload_encoder.hpp"

#include <gtest/gtest.h>

#include <set>

#include "telemetry/envelope.hpp"

namespace telemetry {
namespace {

Reading numbered_reading(std::uint64_t seq = 42) {
    return Reading{"run-1", "sensor-0001", seq, 1764102213123456, 21.53, 45.2, 1013.25, 99.87};
}

std::string encoded(PayloadSpec spec, const Reading& r = numbered_reading(),
                    std::uint64_t seed = 1) {
    std::string out;
    PayloadEncoder(spec, seed).encode(r, out);
    return out;
}

constexpr PayloadFormat kFormats[] = {PayloadFormat::Json, PayloadFormat::Binary,
                                      PayloadFormat::Random};
// And the reading in a pipeline's encodings, whose sizes may be a few bytes above the asked.
constexpr PayloadFormat kEveryFormat[] = {PayloadFormat::Json,   PayloadFormat::Binary,
                                          PayloadFormat::Random, PayloadFormat::Protobuf,
                                          PayloadFormat::Cbor,   PayloadFormat::MessagePack};

TEST(PayloadEncoder, EveryFormatDecodesToItsRunDeviceSeqAndTime) {
    for (const auto format : kEveryFormat) {
        const auto d = decode_payload(encoded({format, {}}));
        ASSERT_TRUE(d.reading) << format_name(format) << ": " << d.error;
        EXPECT_EQ(d.reading->run, "run-1");
        EXPECT_EQ(d.reading->device, "sensor-0001");
        EXPECT_EQ(d.reading->seq, 42u);
        EXPECT_EQ(d.reading->ts_us, 1764102213123456);
        EXPECT_NE(d.content, 0u);
        EXPECT_EQ(d.has_values, format != PayloadFormat::Random) << format_name(format);
    }
}

TEST(PayloadEncoder, TheBinaryReadingCarriesTheValuesAsJsonDoes) {
    Reading r = numbered_reading();
    r.fault = SensorFault::Spike;
    r.battery_low = true;
    r.temperature_c = -40.25;
    const auto binary = decode_payload(encoded({PayloadFormat::Binary, {}}, r));
    const auto json = decode_payload(encoded({PayloadFormat::Json, {}}, r));
    ASSERT_TRUE(binary.reading && json.reading) << binary.error << json.error;
    EXPECT_EQ(*binary.reading, *json.reading);
    EXPECT_EQ(binary.content, json.content);
}

TEST(PayloadEncoder, EachPayloadHasExactlyTheSizeAsked) {
    for (const auto format : kFormats)
        for (const std::size_t size : {250u, 251u, 259u, 260u, 1024u, 4096u, 262'144u}) {
            const std::string payload = encoded({format, {size, size}});
            EXPECT_EQ(payload.size(), size) << format_name(format);
            EXPECT_TRUE(decode_payload(payload).reading) << format_name(format) << " " << size;
        }
}

TEST(PayloadEncoder, ARangeDrawsEachSizeFromTheSeedDeviceAndSeq) {
    const PayloadSpec spec{PayloadFormat::Random, {100, 4000}};
    std::set<std::size_t> sizes;
    for (std::uint64_t seq = 1; seq <= 200; ++seq) {
        const std::size_t size = encoded(spec, numbered_reading(seq)).size();
        EXPECT_GE(size, 100u);
        EXPECT_LE(size, 4000u);
        EXPECT_EQ(encoded(spec, numbered_reading(seq)), encoded(spec, numbered_reading(seq)))
            << "a resend is equal";
        sizes.insert(size);
    }
    EXPECT_GT(sizes.size(), 150u) << "sizes spread over the range";
}

TEST(PayloadEncoder, AnotherSeedSendsOtherRandomBytesUnderTheSameKey) {
    const PayloadSpec spec{PayloadFormat::Random, {1024, 1024}};
    const auto first = decode_payload(encoded(spec, numbered_reading(), 1));
    const auto second = decode_payload(encoded(spec, numbered_reading(), 2));
    ASSERT_TRUE(first.reading && second.reading);
    EXPECT_NE(first.content, second.content) << "another publisher's message is told apart";
    EXPECT_EQ(first.content, decode_payload(encoded(spec, numbered_reading(), 1)).content);
}

TEST(PayloadEncoder, ASizeBelowTheFormatsSmallestGivesTheSmallest) {
    EXPECT_EQ(encoded({PayloadFormat::Random, {16, 16}}).size(), envelope_size(5, 11, 0));
    EXPECT_EQ(encoded({PayloadFormat::Binary, {16, 16}}).size(),
              envelope_size(5, 11, kPackedReadingSize));
    std::string natural;
    encode_reading(numbered_reading(), natural);
    EXPECT_EQ(encoded({PayloadFormat::Json, {16, 16}}), natural);
}

TEST(PayloadEncoder, WithoutASizeJsonIsTodaysReadingAndRandomIsAsLarge) {
    std::string natural;
    encode_reading(numbered_reading(), natural);
    EXPECT_EQ(encoded({}), natural);
    EXPECT_EQ(encoded({PayloadFormat::Random, {}}).size(), 150u);
}

// A damaged byte anywhere in the body is corrupt; in the header it is corrupt or malformed
// (a damaged length or magic); never a reading.
TEST(PayloadEncoder, EveryDamagedByteIsCaught) {
    for (const auto format : kEveryFormat) {
        const std::string good = encoded({format, {300, 300}});
        const std::size_t body_from = format == PayloadFormat::Json ? 0 : 26 + 5 + 11;
        for (std::size_t i = 0; i < good.size(); ++i) {
            std::string bad = good;
            bad[i] = static_cast<char>(bad[i] ^ 0x20);
            const auto d = decode_payload(bad);
            EXPECT_FALSE(d.reading) << format_name(format) << " byte " << i;
            if (format != PayloadFormat::Json && i >= body_from && i < good.size() - 4) {
                EXPECT_EQ(d.problem, DecodeProblem::Corrupt) << format_name(format) << " " << i;
            }
        }
    }
}

TEST(PayloadEncoder, EveryTruncationIsMalformed) {
    for (const auto format : kEveryFormat) {
        const std::string good = encoded({format, {300, 300}});
        for (std::size_t n = 0; n < good.size(); ++n) {
            const auto d = decode_payload(std::string_view(good).substr(0, n));
            EXPECT_FALSE(d.reading) << format_name(format) << " " << n;
            EXPECT_EQ(d.problem, DecodeProblem::Malformed) << format_name(format) << " " << n;
        }
    }
}

TEST(PayloadEncoder, ATemplatesBodyIsVaryingSoItsCopiesAreNotCompared) {
    PayloadSpec spec(PayloadFormat::Template);
    spec.template_text = R"({"temp":${temp},"dev":"${device}"})";
    for (const auto envelope : {Envelope::Payload, Envelope::Properties}) {
        spec.envelope = envelope;
        PayloadEncoder encoder(spec);
        std::string out;
        encoder.encode(numbered_reading(), out);
        std::vector<KeyValue> properties;
        if (const auto* p = encoder.properties())
            for (const KeyValue& kv : p->pairs()) properties.push_back(kv);
        const auto d = decode_payload(out, properties);
        ASSERT_TRUE(d.reading) << d.error;
        EXPECT_EQ(d.body, R"({"temp":21.53,"dev":"sensor-0001"})");
        EXPECT_EQ(d.content, 0u) << "a regenerated copy may differ in its time and values";
        EXPECT_FALSE(d.has_values);
        EXPECT_FALSE(d.json);
    }
}

TEST(PayloadEncoder, EachDeviceSendsTheFilesInTurn) {
    PayloadSpec spec(PayloadFormat::File);
    spec.files = std::make_shared<const std::vector<std::string>>(
        std::vector<std::string>{"first", std::string("\0second", 7), "third"});
    PayloadEncoder encoder(spec);
    for (std::uint64_t seq = 1; seq <= 4; ++seq) {
        std::string out;
        encoder.encode(numbered_reading(seq), out);
        const auto d = decode_payload(out);
        ASSERT_TRUE(d.reading) << d.error;
        EXPECT_EQ(d.body, (*spec.files)[(seq - 1) % 3]) << seq;
        EXPECT_NE(d.content, 0u) << "a file's bytes are the same in every copy";
    }
    EXPECT_THROW(PayloadEncoder(PayloadSpec(PayloadFormat::File)), std::invalid_argument);
}

}  // namespace
}  // namespace telemetry

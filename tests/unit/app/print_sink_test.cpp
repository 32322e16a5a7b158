// --print: every intact reading as one JSON line, the payload exactly as received.
#include "app/print_sink.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "readings.hpp"
#include "telemetry/envelope.hpp"
#include "telemetry/payload.hpp"
#include "telemetry/payload_encoder.hpp"

namespace app {
namespace {

// What the sink wrote, after it flushed on destruction.
std::string printed(const std::vector<std::pair<std::string, std::string>>& messages) {
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::tmpfile(), &std::fclose);
    {
        PrintSink sink(file.get());
        for (const auto& [topic, payload] : messages) {
            const telemetry::DecodedReading decoded = telemetry::decode_payload(payload);
            sink.accept(
                {topic, payload, std::chrono::steady_clock::now(), 1'700'000'000'000'123, decoded});
        }
    }
    std::rewind(file.get());
    std::string text;
    for (int c = std::fgetc(file.get()); c != EOF; c = std::fgetc(file.get()))
        text += static_cast<char>(c);
    return text;
}

TEST(PrintSink, AnIntactReadingIsOneJsonLineWithThePayloadAsReceived) {
    const std::string payload = testing_support::encoded_reading(7);
    const std::string text = printed({{"sensors/dev-1/telemetry", payload}});
    ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
    const auto line = nlohmann::json::parse(text);
    EXPECT_EQ(line.at("topic"), "sensors/dev-1/telemetry");
    EXPECT_EQ(line.at("received_us"), 1'700'000'000'000'123);
    EXPECT_EQ(line.at("reading"), nlohmann::json::parse(payload));
    EXPECT_NE(text.find(payload), std::string::npos) << "the payload's own bytes";
}

// RFC 4648 base64, written here as an oracle independent of the sink's (OpenSSL's).
std::string base64_of(std::string_view bytes) {
    static constexpr char kDigits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        std::uint32_t group = 0;
        const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
        for (std::size_t k = 0; k < 3; ++k)
            group = group << 8 | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0u);
        for (std::size_t k = 0; k < 4; ++k)
            out += k <= n ? kDigits[(group >> (18 - 6 * k)) & 63] : '=';
    }
    return out;
}

// A binary envelope: its fields under schema v1's keys (jq .reading.seq works for every
// format), the values of a packed reading, an opaque body in base64.
TEST(PrintSink, ABinaryEnvelopeIsPrintedAsTheReadingItCarries) {
    const telemetry::Reading r{"run-1", "dev-1", 9, 1764102213123456, 21.5, 45.25, 1013.0, 80.0};
    std::string binary, random;
    telemetry::PayloadEncoder(telemetry::PayloadSpec{telemetry::PayloadFormat::Binary})
        .encode(r, binary);
    telemetry::PayloadEncoder(telemetry::PayloadSpec{telemetry::PayloadFormat::Random, {53, 53}})
        .encode(r, random);
    const std::string text = printed({{"t", binary}, {"t", random}});
    const auto second = text.find('\n') + 1;
    const auto packed = nlohmann::json::parse(text.substr(0, second));
    EXPECT_EQ(packed.at("reading"),
              nlohmann::json::parse(R"({"run":"run-1","dev":"dev-1","seq":9,"ts":1764102213123456,)"
                                    R"("temp":21.5,"hum":45.25,"pres":1013.0,"batt":80.0})"));
    EXPECT_FALSE(packed.contains("body_base64"));
    const auto opaque = nlohmann::json::parse(text.substr(second));
    EXPECT_EQ(opaque.at("reading").at("seq"), 9);
    EXPECT_FALSE(opaque.at("reading").contains("temp"));
    // 53 bytes: 26 + 5 + 5 before the body, 4 after it: 13 bytes of body, 20 in base64.
    EXPECT_EQ(opaque.at("body_base64").get<std::string>().size(), 20u);
    EXPECT_EQ(opaque.at("body_base64"), base64_of(telemetry::envelope_body(random)));
}

TEST(PrintSink, MalformedAndCorruptMessagesAreNotPrinted) {
    std::string corrupt = testing_support::encoded_reading(7);
    corrupt[corrupt.find("21.5")] = '3';
    EXPECT_EQ(printed({{"t", "not json"}, {"t", corrupt}}), "");
}

TEST(PrintSink, ATopicThatIsNotUtf8IsPrintedWithReplacementsNotThrownOver) {
    const std::string text =
        printed({{"sensors/\xff/telemetry", testing_support::encoded_reading(7)}});
    const auto line = nlohmann::json::parse(text);
    EXPECT_EQ(line.at("topic"), "sensors/\xEF\xBF\xBD/telemetry");
}

}  // namespace
}  // namespace app

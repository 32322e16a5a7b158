// --print: every intact reading as one JSON line, the payload exactly as received.
#include "app/print_sink.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "readings.hpp"
#include "telemetry/payload.hpp"

namespace app {
namespace {

// What the sink wrote, after it flushed on destruction.
std::string printed(const std::vector<std::pair<std::string, std::string>>& messages) {
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::tmpfile(), &std::fclose);
    {
        PrintSink sink(file.get());
        for (const auto& [topic, payload] : messages) {
            const telemetry::DecodedReading decoded = telemetry::decode_reading(payload);
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

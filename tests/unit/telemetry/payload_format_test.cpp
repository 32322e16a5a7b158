#include "telemetry/payload_format.hpp"

#include <gtest/gtest.h>

namespace telemetry {
namespace {

PayloadSize size_of(std::string_view text) {
    auto parsed = parse_payload_size(text);
    if (auto* problem = std::get_if<std::string>(&parsed)) ADD_FAILURE() << *problem;
    return std::get_if<PayloadSize>(&parsed) ? std::get<PayloadSize>(parsed) : PayloadSize{};
}

std::string problem_of(std::string_view text) {
    auto parsed = parse_payload_size(text);
    return std::get_if<std::string>(&parsed) ? std::get<std::string>(parsed) : std::string();
}

TEST(PayloadSize, IsBytesWithBinarySuffixes) {
    EXPECT_EQ(size_of("16"), (PayloadSize{16, 16}));
    EXPECT_EQ(size_of("1k"), (PayloadSize{1024, 1024}));
    EXPECT_EQ(size_of("4K"), (PayloadSize{4096, 4096}));
    EXPECT_EQ(size_of("256k"), (PayloadSize{262'144, 262'144}));
    EXPECT_EQ(size_of("1M"), (PayloadSize{1'048'576, 1'048'576}));
}

TEST(PayloadSize, ARangeIsDrawnBetweenItsEnds) {
    EXPECT_EQ(size_of("100..4000"), (PayloadSize{100, 4000}));
    EXPECT_EQ(size_of("1k..64k"), (PayloadSize{1024, 65'536}));
}

TEST(PayloadSize, NamesWhatIsWrong) {
    for (const char* bad : {"", "k", "12x", "1.5k", "-3", "10..", "..10", "1kk", "5 "})
        EXPECT_NE(problem_of(bad).find("expected bytes as N or N..M"), std::string::npos) << bad;
    EXPECT_NE(problem_of("0").find("1 <= N <= M"), std::string::npos);
    EXPECT_NE(problem_of("400..100").find("1 <= N <= M"), std::string::npos);
    EXPECT_NE(problem_of("17M").find("at most 16777216"), std::string::npos);
    EXPECT_NE(problem_of("99999999999999999999").find("expected"), std::string::npos);
}

TEST(PayloadFormat, NamesRoundTrip) {
    for (const auto f : {PayloadFormat::Json, PayloadFormat::Binary, PayloadFormat::Random})
        EXPECT_EQ(parse_payload_format(format_name(f)), f);
    EXPECT_FALSE(parse_payload_format("xml"));
}

TEST(PayloadFormat, TheSmallestPayloadHoldsTheEnvelopeOrTheWidestJsonReading) {
    // The envelope's 30 fixed bytes, the ids, and a packed reading's 14.
    EXPECT_EQ(smallest_payload(PayloadFormat::Random, 8, 11), 49u);
    EXPECT_EQ(smallest_payload(PayloadFormat::Binary, 8, 11), 63u);
    EXPECT_EQ(smallest_payload(PayloadFormat::Binary, 9, 11), 64u);
    EXPECT_GT(smallest_payload(PayloadFormat::Json, 8, 11), 200u);
    EXPECT_LT(smallest_payload(PayloadFormat::Json, 8, 11), 240u);
}

}  // namespace
}  // namespace telemetry

// Repair requests (telemetry/repair.hpp): their documented form, and bad ones refused.
#include "telemetry/repair.hpp"

#include <gtest/gtest.h>

namespace telemetry {
namespace {

TEST(RepairMessages, RequestAndDoneEncodeToTheReadmeForm) {
    EXPECT_EQ(
        encode_repair({"9f3a1c2e", false, {{"sensor-0003", 5120, 5199}}}),
        R"({"type":"repair_request","run":"9f3a1c2e","ranges":[{"dev":"sensor-0003","first":5120,"last":5199}]})");
    EXPECT_EQ(encode_repair({"9f3a1c2e", true, {}}), R"({"type":"repair_done","run":"9f3a1c2e"})");
    const RepairMessage m{"r", false, {{"a", 1, 2}, {"b", 7, 7}}};
    std::string error;
    EXPECT_EQ(decode_repair(encode_repair(m), error), m) << error;
}

TEST(RepairMessages, BadRequestsAreRefusedNamingTheProblem) {
    const std::pair<const char*, const char*> cases[] = {
        {"not json", "not a JSON object"},
        {R"({"type":"other","run":"r"})", "unknown type"},
        {R"({"type":"repair_request","run":"r","ranges":[{"dev":"a","first":0,"last":1}]})",
         "1 <= first <= last"},
        {R"({"type":"repair_request","run":"r","ranges":[{"dev":"a","first":5,"last":4}]})",
         "1 <= first <= last"},
        {R"({"type":"repair_done","run":"bad run"})", "invalid \"run\""},
    };
    for (const auto& [payload, reason] : cases) {
        std::string error;
        EXPECT_FALSE(decode_repair(payload, error)) << payload;
        EXPECT_NE(error.find(reason), std::string::npos) << payload << ": " << error;
    }
}
}  // namespace
}  // namespace telemetry

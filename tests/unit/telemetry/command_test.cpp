// Command and CommandAnswer: the JSON a commander sends and a device answers, both ways.
#include "telemetry/command.hpp"

#include <gtest/gtest.h>

namespace telemetry {
namespace {

TEST(Command, ACommandAndEachKindOfAnswerSurviveTheirEncoding) {
    const Command c{"r1", 7, "sensor-0003", 2, 1'700'000'000'000'000, "reboot", "replies/c1"};
    std::string error;
    EXPECT_EQ(decode_command(encode_command(c), error), c) << error;
    for (const CommandResult r :
         {CommandResult::Accepted, CommandResult::Ok, CommandResult::Failed}) {
        const CommandAnswer a{"r1", 7, "sensor-0003", 2, r, 2, true, 10, 20};
        EXPECT_EQ(decode_answer(encode_answer(a), error), a) << error;
    }
}

TEST(Command, WhatIsNotOneIsRefusedSayingWhy) {
    std::string error;
    EXPECT_FALSE(decode_command("[1,2]", error));
    EXPECT_EQ(error, "not a JSON object");
    EXPECT_FALSE(decode_command(
        R"({"run":"r","command":1,"device":"d","seq":1,"sent_us":5,"reply_to":"x"})", error));
    EXPECT_EQ(error, "no \"name\"");
    EXPECT_FALSE(decode_answer(
        R"({"run":"r","command":"x","device":"d","seq":1,"result":"ok","executions":1,)"
        R"("duplicate":false,"received_us":1,"answered_us":2})",
        error));
    EXPECT_EQ(error, "\"command\" has the wrong type");
    EXPECT_FALSE(decode_answer(
        R"({"run":"r","command":1,"device":"d","seq":1,"result":"maybe","executions":1,)"
        R"("duplicate":false,"received_us":1,"answered_us":2})",
        error));
    EXPECT_EQ(error, "\"result\" is none of accepted, ok, failed");
}

}  // namespace
}  // namespace telemetry

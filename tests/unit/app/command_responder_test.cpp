// The devices' side of commands: answers leave when due, in order per device, and a device whose
// connection has no room holds up none of the others' answers.

#include "app/command_responder.hpp"

#include <gtest/gtest.h>

#include "fake_client.hpp"

namespace app {
namespace {

using namespace std::chrono_literals;
using testing_support::FakeClient;
using Clock = CommandResponder::Clock;

void command(CommandResponder& r, const std::string& device, std::uint64_t id,
             Clock::time_point at) {
    telemetry::Command c;
    c.run = "r1";
    c.id = id;
    c.device = device;
    c.seq = id;
    c.reply_to = "replies";
    const std::string payload = telemetry::encode_command(c), topic = device + "/cmd";
    r.on_command({topic, payload, mqtt::QoS::AtLeastOnce, false, {}, "replies", "corr"}, at);
}

// The answers published so far, as "device result" in order.
std::vector<std::string> answers(const FakeClient& client) {
    std::vector<std::string> out;
    for (const auto& p : client.published) {
        std::string error;
        const auto a = telemetry::decode_answer(p.payload, error);
        EXPECT_TRUE(a) << error;
        const char* result = !a                                                ? "?"
                             : a->result == telemetry::CommandResult::Accepted ? "accepted"
                             : a->result == telemetry::CommandResult::Ok       ? "ok"
                                                                               : "failed";
        if (a) out.push_back(a->device + " " + result);
    }
    return out;
}

TEST(CommandResponder, AnswersAcceptedAtOnceAndOkAfterTheServiceTime) {
    FakeClient client;
    CommandResponder r({10ms, 0.0, true, 1});
    const auto t0 = Clock::now();
    command(r, "d1", 1, t0);
    r.send_due(client, t0, [](mqtt::PublishId) {});
    EXPECT_EQ(answers(client), (std::vector<std::string>{"d1 accepted"}));
    EXPECT_EQ(r.next_due_after(t0), t0 + 10ms) << "the loop wakes for the final answer";
    r.send_due(client, t0 + 10ms, [](mqtt::PublishId) {});
    EXPECT_EQ(answers(client), (std::vector<std::string>{"d1 accepted", "d1 ok"}));
    EXPECT_FALSE(r.answering());
}

TEST(CommandResponder, ADeviceWithoutRoomHoldsUpNoOtherDevicesAnswers) {
    FakeClient client;
    client.down_topics = {"d1/cmd"};
    CommandResponder r({0ms, 0.0, true, 1});
    const auto t0 = Clock::now();
    command(r, "d1", 1, t0);
    command(r, "d2", 2, t0);
    std::size_t sent = 0;
    r.send_due(client, t0, [&](mqtt::PublishId) { ++sent; });
    EXPECT_EQ(answers(client), (std::vector<std::string>{"d2 accepted", "d2 ok"}));
    EXPECT_EQ(sent, 2u);
    EXPECT_FALSE(r.next_due_after(t0)) << "d1's answers are due; room, not time, wakes them";
    client.down_topics.clear();
    r.send_due(client, t0 + 1ms, [](mqtt::PublishId) {});
    EXPECT_EQ(answers(client),
              (std::vector<std::string>{"d2 accepted", "d2 ok", "d1 accepted", "d1 ok"}))
        << "d1's own answers stay in order";
    EXPECT_EQ(r.counts().answers_sent, 4u);
}

}  // namespace
}  // namespace app

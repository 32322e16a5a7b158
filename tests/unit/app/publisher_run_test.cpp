// The publisher's run object driven by a fake client: every end of a run, its exit status and
// its report, without a broker.

#include <gtest/gtest.h>

#include <csignal>

#include "app/exit_status.hpp"
#include "app/publisher_run.hpp"
#include "app/publisher_state.hpp"
#include "app/signals.hpp"
#include "fake_client.hpp"
#include "telemetry/payload.hpp"
#include "telemetry/repair.hpp"
#include "telemetry/run_summary.hpp"
#include "temp_dir.hpp"

namespace app {
namespace {

using testing_support::FakeClient;

PublisherOptions options(std::uint64_t count = 50) {
    PublisherOptions o;
    o.count = count;
    o.devices = 5;
    o.run_id = "unit-run";
    o.drain_timeout_s = 0.2;
    o.output.quiet = true;
    o.output.progress_every = 0;
    return o;
}

struct Ran {
    int status;
    nlohmann::json report;
};

Ran run(
    const PublisherOptions& o, FakeClient& client,
    std::function<bool()> stop = [] { return false; }) {
    ProgressLine progress("mqtt_publisher", false);
    PublisherRun r(o, plan_run(o), client, progress, std::move(stop));
    const int status = r.run();
    return {status, r.report()};
}

std::vector<FakeClient::Published> on_topic(const FakeClient& c, const std::string& topic) {
    std::vector<FakeClient::Published> found;
    for (const auto& p : c.published)
        if (p.topic == topic) found.push_back(p);
    return found;
}

TEST(PublisherRun, EveryMessageConfirmedIsExitZeroAndEndsWithTheRunSummary) {
    FakeClient client;
    const auto o = options(50);
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kSuccess);
    EXPECT_EQ(r.report["published"], 50);
    EXPECT_EQ(r.report["confirmed"], 50);
    EXPECT_EQ(r.report["unconfirmed"], 0);
    EXPECT_EQ(r.report["end_reason"], "complete");
    EXPECT_EQ(r.report["summary_confirmed"], true);
    const auto control = on_topic(client, o.control_topic);
    ASSERT_FALSE(control.empty());
    EXPECT_EQ(client.published.back().topic, o.control_topic) << "the summary comes last";
    const auto summary = telemetry::decode_run_summary(control.back().payload).summary;
    ASSERT_TRUE(summary);
    EXPECT_EQ(summary->run, "unit-run");
    EXPECT_EQ(summary->published, 50u);
    EXPECT_FALSE(summary->interrupted);
    ASSERT_EQ(summary->devices.size(), 5u);
    EXPECT_EQ(summary->devices[0].last_seq, 10u);
    EXPECT_TRUE(client.disconnected);
}

TEST(PublisherRun, NeverHasMoreThanTheWindowInFlight) {
    FakeClient client;
    client.window_size = 7;
    run(options(200), client);
    EXPECT_EQ(client.max_in_flight, 7u);
}

TEST(PublisherRun, SilentBrokerEndsUnconfirmedAfterTheDrainTimeoutWithExitOne) {
    FakeClient client;
    client.broker = FakeClient::Broker::Silent;
    const Ran r = run(options(10), client);
    EXPECT_EQ(r.status, kVerificationFailed);
    EXPECT_EQ(r.report["end_reason"], "unconfirmed");
    EXPECT_EQ(r.report["published"], 10);
    EXPECT_EQ(r.report["summary_sent"], false) << "the window stayed full";
    EXPECT_EQ(r.report["confirmed"], 0);
    EXPECT_EQ(r.report["unconfirmed"], 10);
    EXPECT_NE(r.report["error"].get<std::string>().find("10 of 10 messages were not confirmed"),
              std::string::npos)
        << r.report["error"];
}

TEST(PublisherRun, ARunWhoseSummaryTheBrokerDidNotTakeFails) {
    // Before issue 29 this was exit 0 with summary_confirmed false in the report.
    FakeClient client;
    const auto o = options(10);
    client.down_topics.insert(o.control_topic);
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kVerificationFailed);
    EXPECT_EQ(r.report["confirmed"], 10);
    EXPECT_EQ(r.report["summary_confirmed"], false);
    EXPECT_NE(r.report["error"].get<std::string>().find("no consumer can verify the run"),
              std::string::npos)
        << r.report["error"];
}

TEST(PublisherRun, ASecondCtrlCEndsTheDrainAtOnce) {
    // Before issue 29 the drain waited its whole --drain-timeout (here an hour) after any
    // number of Ctrl-Cs: this test would hang until ctest's timeout.
    FakeClient client;
    client.broker = FakeClient::Broker::Silent;
    auto o = options(10);
    o.drain_timeout_s = 3600;
    install_stop_signals();
    std::raise(SIGINT);
    std::raise(SIGINT);
    ASSERT_TRUE(stop_now_requested());
    const Ran r = run(o, client, [&] { return client.published.size() >= 5; });
    forget_stop_signals();  // the next test in this process starts without them
    EXPECT_EQ(r.status, kInterrupted);
    EXPECT_EQ(r.report["end_reason"], "interrupted");
    EXPECT_GT(r.report["unconfirmed"].get<std::uint64_t>(), 0u) << "it did not wait for them";
}

TEST(PublisherRun, ABrokerThatStopsConfirmingShowsAsAStallInTheProgressLine) {
    FakeClient client;
    client.broker = FakeClient::Broker::Silent;
    auto o = options(10);
    o.drain_timeout_s = 2.5;  // the stall line comes after 2 s without a confirmation
    o.output.progress_every = 1000;
    testing::internal::CaptureStderr();
    int status = 0;
    {
        ProgressLine progress("mqtt_publisher", true);
        PublisherRun r(o, plan_run(o), client, progress, [] { return false; });
        status = r.run();
    }
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(status, kVerificationFailed);
    EXPECT_NE(err.find("in flight 10 (window 10) |"), std::string::npos) << err;
    EXPECT_NE(err.find("STALLED: no confirmation for 2 s"), std::string::npos) << err;
}

TEST(PublisherRun, RefusedPublishesAreRejectedNotConfirmedAndFailTheRun) {
    FakeClient client;
    client.broker = FakeClient::Broker::Refusing;
    client.refusal = mqtt::ReasonCode::NotAuthorized;
    const Ran r = run(options(30), client);
    EXPECT_EQ(r.status, kVerificationFailed);
    EXPECT_EQ(r.report["end_reason"], "rejected");
    EXPECT_EQ(r.report["rejected"], 30);
    EXPECT_EQ(r.report["confirmed"], 0);
    EXPECT_EQ(r.report["unconfirmed"], 0);
    EXPECT_NE(r.report["error"].get<std::string>().find("0x87"), std::string::npos);
}

TEST(PublisherRun, InterruptedRunStopsPublishingDrainsAndSaysSoInTheSummary) {
    FakeClient client;
    const auto o = options(1000);
    const Ran r = run(o, client, [&] { return client.published.size() >= 100; });
    EXPECT_EQ(r.status, kInterrupted);
    EXPECT_EQ(r.report["end_reason"], "interrupted");
    EXPECT_LT(r.report["published"].get<int>(), 1000);
    EXPECT_EQ(r.report["confirmed"], r.report["published"]) << "drained before the summary";
    const auto summary =
        telemetry::decode_run_summary(on_topic(client, o.control_topic).back().payload).summary;
    ASSERT_TRUE(summary);
    EXPECT_TRUE(summary->interrupted);
}

TEST(PublisherRun, ConnectFailureIsExitThreeWithTheErrorInTheReport) {
    FakeClient client;
    client.connect_error =
        mqtt::broker_error(mqtt::ErrorKind::Refused, "127.0.0.1", 1, "connection refused");
    const Ran r = run(options(), client);
    EXPECT_EQ(r.status, kBrokerError);
    EXPECT_EQ(r.report["end_reason"], "broker-error");
    EXPECT_EQ(r.report["exit_status"], kBrokerError);
    EXPECT_EQ(r.report["error"], "broker 127.0.0.1:1: connection refused");
    EXPECT_TRUE(client.published.empty());
}

TEST(PublisherRun, ConnectionLostMidRunIsExitThreeWithWhatWasCounted) {
    FakeClient client;
    client.lose_connection_after = 25;
    const Ran r = run(options(100), client);
    EXPECT_EQ(r.status, kBrokerError);
    EXPECT_EQ(r.report["end_reason"], "connection-lost");
    EXPECT_GE(r.report["published"].get<int>(), 25);
    EXPECT_NE(r.report["error"].get<std::string>().find("connection lost"), std::string::npos);
}

TEST(PublisherRun, ConfirmationsRecordPubackLatency) {
    FakeClient client;
    const Ran r = run(options(40), client);
    EXPECT_EQ(r.report["puback_latency_us"]["count"], 40);
}

TEST(PublisherRun, AFleetDeviceWhoseConnectionIsDownHoldsItsReadingsBackWhileTheOthersGoOn) {
    PublisherOptions o = options(30);
    o.devices = 3;
    o.per_device = true;
    FakeClient client;
    client.window_size = 100;
    const std::string away = "sensors/sensor-0002/telemetry";
    client.down_topics = {away};
    client.on_publish = [&](const std::string&, const std::string&) {
        if (client.published.size() == 12) client.down_topics.clear();  // it comes back
    };
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kSuccess);
    ASSERT_EQ(client.published.size(), 31U);  // and the run summary
    for (std::size_t i = 0; i < 12; ++i) EXPECT_NE(client.published[i].topic, away) << i;
    std::uint64_t seq = 0;
    for (const auto& p : on_topic(client, away))
        EXPECT_EQ(telemetry::decode_reading(p.payload).reading->seq, ++seq) << "in order";
    EXPECT_EQ(seq, 10U);
}

// The arguments a state directory keeps, so that only the same run resumes.
const nlohmann::json kArguments{{"count", 50}, {"devices", 5}};

TEST(PublisherRun, AnInterruptedRunResumesFromItsStateAndTheSummaryCoversTheWholeRun) {
    testing_support::TempDir tmp;
    const auto o = options(50);
    std::uint64_t resumed_from = 0, first_sent = 0;
    {
        PublisherState state(tmp.path(), kArguments);
        FakeClient first;
        ProgressLine progress("mqtt_publisher", false);
        PublisherRun r(o, plan_run(o), first, progress,
                       [&] { return first.published.size() >= 23; });
        r.keep_state(state);
        EXPECT_EQ(r.run(), kInterrupted);
        first_sent = r.counters().published;
    }
    PublisherState state(tmp.path(), kArguments);
    ASSERT_TRUE(state.resuming());
    resumed_from = state.confirmed_through();
    EXPECT_GT(resumed_from, 0u);
    EXPECT_LE(resumed_from, first_sent);
    EXPECT_LT(first_sent, 50u) << "interrupted before the end";
    FakeClient second;
    ProgressLine progress("mqtt_publisher", false);
    PublisherRun r(o, plan_run(o), second, progress, [] { return false; });
    r.keep_state(state);
    EXPECT_EQ(r.run(), kSuccess);
    // The first message sent again is the first one not confirmed before: message k is device
    // k mod 5, sequence number k / 5 + 1.
    const auto first_again = telemetry::decode_reading(second.published.front().payload).reading;
    ASSERT_TRUE(first_again);
    EXPECT_EQ(first_again->seq, resumed_from / 5 + 1);
    EXPECT_EQ(first_again->device, sim::device_id("sensor-", resumed_from % 5 + 1));
    const auto summary =
        telemetry::decode_run_summary(on_topic(second, o.control_topic).back().payload).summary;
    ASSERT_TRUE(summary);
    EXPECT_EQ(summary->published, 50u) << "the whole run, both processes";
    EXPECT_EQ(summary->confirmed, 50u);
    EXPECT_EQ(summary->devices[4].last_seq, 10u);
    EXPECT_EQ(r.report().resumed_from, resumed_from);
}

// --- End-to-end repair: a publisher with a replay buffer answers a consumer's request.

TEST(PublisherRun, WithAReplayBufferARepairRequestGetsTheSameBytesAgain) {
    FakeClient client;
    auto o = options(50);
    o.replay_buffer = 100;
    o.repair_linger_s = 5;
    client.on_publish = [&](const std::string& topic, const std::string&) {
        if (topic == o.control_topic && client.inbox.empty() &&
            on_topic(client, "telemetry/repair/unit-run").empty()) {
            // After the summary: the consumer misses sequence number 2 of the first device.
            client.inbox.emplace_back(
                "telemetry/repair/unit-run",
                telemetry::encode_repair({"unit-run", false, {{"sensor-0001", 2, 2}}}));
        }
    };
    std::size_t sent_before_request = 0;
    const Ran r = run(o, client, [&] {
        // Once the message is sent again, the consumer says it is done.
        if (sent_before_request == 0 && client.published.size() > 51 && client.inbox.empty()) {
            sent_before_request = client.published.size();
            client.inbox.emplace_back("telemetry/repair/unit-run",
                                      telemetry::encode_repair({"unit-run", true, {}}));
        }
        return false;
    });
    EXPECT_EQ(r.status, kSuccess);
    EXPECT_EQ(r.report["repaired"], 1);
    EXPECT_EQ(r.report["unrepairable"], 0);
    EXPECT_EQ(client.filters, (std::vector<std::string>{"telemetry/repair/unit-run"}));
    // Message 5 is the first device's second reading (5 devices in turn): sent again as is.
    const auto sent = on_topic(client, "sensors/sensor-0001/telemetry");
    ASSERT_GE(sent.size(), 2u);
    EXPECT_EQ(sent.back().payload, sent[1].payload);
    EXPECT_EQ(r.report["confirmed"], 50) << "a repair is not a new message";
}

TEST(PublisherRun, WithWindowAutoTheWindowIsInTheTimelineAndUsesTheBrokersWholeLimit) {
    FakeClient client;
    client.window_size = 20;  // a stock Mosquitto's Receive Maximum
    auto o = options(2000);
    o.window_auto = true;
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kSuccess);
    EXPECT_EQ(r.report["window"], "auto");
    // Before, one slot of the 20 was kept for control messages for good: 8% of the rate.
    EXPECT_EQ(client.max_in_flight, 20u) << "no slot is kept while no control message waits";
    EXPECT_EQ(r.report["final_window"].get<std::size_t>(), 20u);
    EXPECT_EQ(PublisherOptions::control_room(20), 1u) << "one slot, while one waits";
    ASSERT_FALSE(r.report["timeline"].empty());
    EXPECT_GT(r.report["timeline"].back()["window"].get<std::size_t>(), 0u);
}

// Over MQTT 3.1.1 the broker states no window. Mosquitto 2.0.11 confirms QoS 2 messages beyond
// its max_inflight_messages and drops them, so auto stays within its default of 20 there.
TEST(PublisherRun, AtQos2WithoutAWindowFromTheBrokerAutoStaysWithinMosquittosDefault) {
    FakeClient client;
    client.window_size = 1000;
    client.states_window = false;
    auto o = options(3000);
    o.window_auto = true;
    o.qos = 2;
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kSuccess);
    EXPECT_LE(client.max_in_flight, PublisherOptions::kQos2WindowUnstated);
    EXPECT_LE(r.report["final_window"].get<std::size_t>(), PublisherOptions::kQos2WindowUnstated);
}

TEST(PublisherRun, AtQos1WithoutAWindowFromTheBrokerAutoGrowsPastTwenty) {
    FakeClient client;
    client.window_size = 1000;
    client.states_window = false;
    auto o = options(3000);
    o.window_auto = true;
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kSuccess);
    EXPECT_GT(client.max_in_flight, PublisherOptions::kQos2WindowUnstated)
        << "QoS 1 is taken or refused at once: the limit is not needed";
}

TEST(PublisherRun, AFixedQos2WindowAboveTwentyOverMqtt311IsWarnedAbout) {
    FakeClient client;
    client.window_size = 40;
    client.states_window = false;
    auto o = options(100);
    o.qos = 2;
    o.window_auto = false;
    testing::internal::CaptureStderr();
    const Ran r = run(o, client);
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(r.status, kSuccess);
    EXPECT_NE(err.find("warning: --window 40 at QoS 2 over MQTT 3.1.1"), std::string::npos)
        << "even with --quiet: " << err;
    EXPECT_EQ(client.max_in_flight, 40u) << "a window the user chose is kept";
}

TEST(PublisherRun, AGeneratorThatFellBehindItsScheduleFailsTheRunAndSaysByHowMuch) {
    FakeClient client;
    client.stall = std::chrono::seconds(1);  // no confirmation while messages fall due
    auto o = options(200);
    o.rate = 1000;
    o.max_schedule_lag_ms = 300;
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kVerificationFailed);
    EXPECT_EQ(r.report["end_reason"], "behind-schedule");
    EXPECT_EQ(r.report["confirmed"], 200) << "every message still arrived";
    const auto& lag = r.report["schedule_lag"];
    EXPECT_TRUE(lag["paced"].get<bool>());
    EXPECT_TRUE(lag["breached"].get<bool>());
    EXPECT_GT(lag["max_ms"].get<double>(), 300.0);
    EXPECT_NE(r.report["error"].get<std::string>().find("fell behind its schedule"),
              std::string::npos);
}

TEST(PublisherRun, ALateQos2ScheduleOverMqtt311NamesTheLimitOfTwenty) {
    FakeClient client;
    client.window_size = 1000;
    client.states_window = false;
    client.stall = std::chrono::seconds(1);
    auto o = options(200);
    o.qos = 2;
    o.rate = 1000;
    o.max_schedule_lag_ms = 300;
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kVerificationFailed);
    EXPECT_NE(r.report["error"].get<std::string>().find(
                  "held at 20 because over MQTT 3.1.1 the broker states no QoS 2 in-flight limit"),
              std::string::npos)
        << r.report["error"];
}

TEST(PublisherRun, WithoutALimitALateScheduleIsReportedButDoesNotFail) {
    FakeClient client;
    client.stall = std::chrono::milliseconds(500);
    auto o = options(100);
    o.rate = 1000;
    o.max_schedule_lag_ms = 0;
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kSuccess);
    EXPECT_FALSE(r.report["schedule_lag"]["breached"].get<bool>());
    EXPECT_GT(r.report["schedule_lag"]["max_ms"].get<double>(), 0.0);
}

TEST(PublisherRun, AnUnpacedRunHasNoScheduleToFallBehind) {
    FakeClient client;
    client.stall = std::chrono::milliseconds(500);
    const Ran r = run(options(100), client);
    EXPECT_EQ(r.status, kSuccess);
    EXPECT_FALSE(r.report["schedule_lag"]["paced"].get<bool>());
    EXPECT_FALSE(r.report["schedule_lag"]["breached"].get<bool>());
}

TEST(PacingWait, WakesWithinAHundredMicrosecondsOfTheDueTimeAndNeverAfterIt) {
    using std::chrono::microseconds;
    EXPECT_EQ(pacing_wait(microseconds(0)), microseconds(0));
    EXPECT_EQ(pacing_wait(microseconds(-5)), microseconds(0));
    EXPECT_EQ(pacing_wait(microseconds(1)), microseconds(100));
    EXPECT_EQ(pacing_wait(microseconds(300)), microseconds(300));
    EXPECT_EQ(pacing_wait(microseconds(301)), microseconds(400));
    EXPECT_EQ(pacing_wait(std::chrono::seconds(5)), std::chrono::milliseconds(100))
        << "bounded, so that a stop request is seen";
}

}  // namespace
}  // namespace app

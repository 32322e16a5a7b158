// The subscriber's run object driven by a fake client: control messages, the sinks, every end
// of a run and its verdict, without a broker.

#include <gtest/gtest.h>

#include "app/exit_status.hpp"
#include "app/subscriber_run.hpp"
#include "app/subscriber_state.hpp"
#include "fake_client.hpp"
#include "readings.hpp"
#include "telemetry/payload.hpp"
#include "telemetry/repair.hpp"
#include "telemetry/run_summary.hpp"
#include "temp_dir.hpp"

// Named apart from publisher_run_test.cpp's helpers (options(), Ran): the dev build compiles test
// files in batches, where anonymous namespaces of different files meet.
namespace app::subscriber_run_test {
namespace {

using testing_support::encoded_reading;
using testing_support::FakeClient;

SubscriberOptions options() {
    SubscriberOptions o;
    o.idle_timeout_s = 0.3;
    o.output.quiet = true;
    o.output.progress_every = 0;
    return o;
}

std::string summary(std::uint64_t last_seq, const std::string& device = "dev-1") {
    return telemetry::encode_run_summary(
        {"run-1", 1, last_seq, last_seq, false, {{device, last_seq, last_seq, {}, {}}}});
}

void send(FakeClient& c, const std::string& payload,
          const std::string& topic = "sensors/dev-1/telemetry") {
    c.inbox.emplace_back(topic, payload);
}

struct Ran {
    int status;
    nlohmann::json report;
};

Ran run(
    const SubscriberOptions& o, FakeClient& client, telemetry::MessageSink* extra = nullptr,
    std::function<bool()> stop = [] { return false; }) {
    ProgressLine progress("mqtt_subscriber", false);
    SubscriberRun r(o, client, progress, std::move(stop));
    if (extra != nullptr) r.add_sink(*extra);
    const int status = r.run();
    return {status, r.report()};
}

TEST(SubscriberRun, SubscribesToTheTelemetryControlAndStatusTopics) {
    FakeClient client;
    const auto o = options();
    run(o, client);
    EXPECT_EQ(client.filters, (std::vector<std::string>{"sensors/+/telemetry", o.control_topic,
                                                        "sensors/+/status"}));
}

TEST(SubscriberRun, DeviceStatusesAreFollowedAndNeverCountedAsTelemetry) {
    FakeClient client;
    const auto o = options();
    send(client, "online", "sensors/dev-1/status");
    send(client, "offline", "sensors/dev-2/status");
    for (std::uint64_t seq = 1; seq <= 20; ++seq) send(client, encoded_reading(seq));
    send(client, summary(20), o.control_topic);
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kSuccess);
    EXPECT_EQ(r.report.at("received"), 20);
    EXPECT_EQ(r.report.at("malformed"), 0);
    EXPECT_EQ(r.report.at("device_status").at("online"), 1);
    EXPECT_EQ(r.report.at("device_status").at("offline_devices"),
              (std::vector<std::string>{"dev-2"}));
    EXPECT_EQ(r.report.at("slowest_devices").at(0).at("messages"), 20);
}

TEST(SubscriberRun, WithoutAStatusTopicStatusMessagesAreTelemetryLikeAnyOther) {
    FakeClient client;
    auto o = options();
    o.status_topic.clear();
    o.topics = {"sensors/#"};
    send(client, "online", "sensors/dev-1/status");
    const Ran r = run(o, client);
    EXPECT_EQ(client.filters, (std::vector<std::string>{"sensors/#", o.control_topic}));
    EXPECT_EQ(r.report.at("malformed"), 1);
    EXPECT_EQ(r.report.at("device_status"), nullptr);
}

TEST(SubscriberRun, ARunOfSeveralShardsReportsEachShardsLatency) {
    FakeClient client;
    const auto o = options();
    for (std::uint64_t seq = 1; seq <= 10; ++seq) send(client, encoded_reading(seq, "dev-1"));
    for (std::uint64_t seq = 1; seq <= 5; ++seq)
        send(client, encoded_reading(seq, "dev-2"), "sensors/dev-2/telemetry");
    send(client,
         telemetry::encode_run_summary(
             {"run-1", 1, 10, 10, false, {{"dev-1", 10, 10, {}, {}}}, 1, 2}),
         o.control_topic);
    send(client,
         telemetry::encode_run_summary({"run-1", 1, 5, 5, false, {{"dev-2", 5, 5, {}, {}}}, 2, 2}),
         o.control_topic);
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kSuccess);
    const auto& shards = r.report.at("latency_by_shard");
    ASSERT_EQ(shards.size(), 2U) << shards.dump();
    EXPECT_EQ(shards[0].at("shard"), 1);
    EXPECT_EQ(shards[0].at("shards"), 2);
    EXPECT_EQ(shards[0].at("messages"), 10);
    EXPECT_EQ(shards[1].at("messages"), 5);
    EXPECT_GT(shards[1].at("p99_us").get<std::int64_t>(), 0);
}

TEST(SubscriberRun, ARunOfOneShardHasNoLatencyByShard) {
    FakeClient client;
    const auto o = options();
    for (std::uint64_t seq = 1; seq <= 3; ++seq) send(client, encoded_reading(seq));
    send(client, summary(3), o.control_topic);
    EXPECT_TRUE(run(o, client).report.at("latency_by_shard").empty());
}

TEST(SubscriberRun, EndsVerifiedWhenTheSummarySaysEverythingArrived) {
    FakeClient client;
    const auto o = options();
    for (std::uint64_t seq = 1; seq <= 20; ++seq) send(client, encoded_reading(seq));
    send(client, summary(20), o.control_topic);
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kSuccess);
    EXPECT_EQ(r.report["end_reason"], "complete");
    EXPECT_EQ(r.report["verified"], true);
    EXPECT_EQ(r.report["unique"], 20);
    EXPECT_EQ(r.report["summaries"], nlohmann::json::array({"run-1"}));
    EXPECT_EQ(r.report["latency_us"]["count"], 20);
    EXPECT_TRUE(client.disconnected);
}

TEST(SubscriberRun, AMissingMessageEndsOnIdleTimeoutNotVerifiedWithExitOne) {
    FakeClient client;
    const auto o = options();
    for (std::uint64_t seq : {1, 2, 3, 5}) send(client, encoded_reading(seq));
    send(client, summary(5), o.control_topic);
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kVerificationFailed);
    EXPECT_EQ(r.report["end_reason"], "idle-timeout");
    EXPECT_EQ(r.report["verified"], false);
    EXPECT_EQ(r.report["missing"], 1);
    EXPECT_EQ(r.report["gaps"][0]["first"], 4);
    EXPECT_EQ(r.report["failed_checks"][0], "missing 1 > --max-missing 0");
}

TEST(SubscriberRun, AnIdleEndBeforeTheRunSummaryIsNotVerified) {
    // Before issue 29 this was VERIFIED: 3 of 3 expected, whatever the publisher had sent.
    FakeClient client;
    for (std::uint64_t seq : {1, 2, 3}) send(client, encoded_reading(seq));
    const Ran r = run(options(), client);
    EXPECT_EQ(r.status, kVerificationFailed);
    EXPECT_EQ(r.report["end_reason"], "idle-timeout");
    EXPECT_EQ(r.report["verified"], false);
    EXPECT_EQ(r.report["failed_checks"][0],
              "1 run without a run summary: what was published is unknown");
}

TEST(SubscriberRun, AnUnverifiedEndKeepsThePersistentSessionOfAGivenId) {
    FakeClient client;
    auto o = options();
    o.connect.clean_session = false;
    o.client_id_given = true;
    send(client, encoded_reading(1));
    run(o, client);
    EXPECT_TRUE(client.session_kept) << "what the broker still queues for us waits for a restart";
}

TEST(SubscriberRun, AVerifiedEndOrAGeneratedIdEndsTheSession) {
    for (const bool given : {true, false}) {
        FakeClient client;
        auto o = options();
        o.connect.clean_session = false;
        o.client_id_given = given;
        send(client, encoded_reading(1));
        if (given) send(client, summary(1), o.control_topic);
        const Ran r = run(o, client);
        EXPECT_FALSE(client.session_kept) << "given id " << given << " status " << r.status;
    }
}

TEST(SubscriberRun, ASuspendedProcessIsNotIdleAndVerifiesWhatWaitedInItsSocket) {
    // Suspended for five idle timeouts; before issue 29 it ended at once on the idle timeout.
    FakeClient client;
    client.suspend = std::chrono::milliseconds(1500);
    const auto o = options();
    for (std::uint64_t seq : {1, 2, 3}) send(client, encoded_reading(seq));
    send(client, summary(3), o.control_topic);
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kSuccess) << r.report.dump();
    EXPECT_EQ(r.report["end_reason"], "complete");
    EXPECT_EQ(r.report["unique"], 3);
}

TEST(SubscriberRun, AForgedSummaryAnnouncingFewerMessagesIsNotVerified) {
    // Before issue 29: VERIFIED, unique 5 of 3 expected (complete).
    FakeClient client;
    const auto o = options();
    for (std::uint64_t seq = 1; seq <= 5; ++seq) send(client, encoded_reading(seq));
    send(client, summary(3), o.control_topic);
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kVerificationFailed);
    EXPECT_EQ(r.report["verified"], false);
    EXPECT_EQ(r.report["contradictions"], 1);
    EXPECT_EQ(r.report["failed_checks"][0],
              "1 contradiction between what arrived and what was announced");
}

TEST(SubscriberRun, ADuplicateIsCountedOnceAndLegal) {
    FakeClient client;
    const auto o = options();
    for (std::uint64_t seq : {1, 2, 2, 3}) send(client, encoded_reading(seq));
    send(client, summary(3), o.control_topic);
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kSuccess);
    EXPECT_EQ(r.report["received"], 4);
    EXPECT_EQ(r.report["unique"], 3);
    EXPECT_EQ(r.report["duplicates"], 1);
}

TEST(SubscriberRun, CountEndsTheRunAfterThatManyUniqueMessages) {
    FakeClient client;
    auto o = options();
    o.count = 3;
    for (std::uint64_t seq = 1; seq <= 3; ++seq) send(client, encoded_reading(seq));
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kSuccess);
    EXPECT_EQ(r.report["end_reason"], "count");
}

TEST(SubscriberRun, NothingArrivingEndsOnIdleTimeoutAndFails) {
    FakeClient client;
    const Ran r = run(options(), client);
    EXPECT_EQ(r.status, kVerificationFailed);
    EXPECT_EQ(r.report["end_reason"], "idle-timeout");
    EXPECT_EQ(r.report["failed_checks"][0], "no message arrived");
}

TEST(SubscriberRun, InterruptedIsExit130WithWhatWasCounted) {
    FakeClient client;
    for (std::uint64_t seq = 1; seq <= 5; ++seq) send(client, encoded_reading(seq));
    const Ran r = run(options(), client, nullptr, [&] { return client.inbox.empty(); });
    EXPECT_EQ(r.status, kInterrupted);
    EXPECT_EQ(r.report["end_reason"], "interrupted");
    EXPECT_EQ(r.report["unique"], 5);
    EXPECT_EQ(r.report["verified"], false);
}

TEST(SubscriberRun, ARefusedSubscriptionIsExitThreeNamingTheFilter) {
    FakeClient client;
    client.suback = {mqtt::ReasonCode::GrantedQos1, mqtt::ReasonCode::NotAuthorized};
    const Ran r = run(options(), client);
    EXPECT_EQ(r.status, kBrokerError);
    EXPECT_EQ(r.report["end_reason"], "broker-error");
    EXPECT_NE(r.report["error"].get<std::string>().find("'telemetry/run-summary' refused"),
              std::string::npos)
        << r.report["error"];
}

TEST(SubscriberRun, ConnectionLostIsExitThree) {
    FakeClient client;
    client.lose_connection_after = 0;
    const Ran r = run(options(), client);
    EXPECT_EQ(r.status, kBrokerError);
    EXPECT_EQ(r.report["end_reason"], "connection-lost");
}

// Records what a sink is handed.
struct RecordingSink : telemetry::MessageSink {
    std::vector<std::string> seen;
    void accept(const telemetry::Delivery& d) override {
        if (d.decoded.reading)
            seen.push_back("seq " + std::to_string(d.decoded.reading->seq));
        else
            seen.push_back(std::string(d.decoded.problem == telemetry::DecodeProblem::Corrupt
                                           ? "corrupt: "
                                           : "malformed: ") +
                           d.decoded.error);
    }
};

TEST(SubscriberRun, EverySinkSeesEveryTelemetryMessageInOrderWithProblemsNamed) {
    FakeClient client;
    const auto o = options();
    send(client, encoded_reading(1));
    std::string corrupt = encoded_reading(2);
    corrupt[corrupt.find("21.50")] = '3';  // damaged on the way: the checksum no longer matches
    send(client, corrupt);
    send(client, "not json");
    send(client, encoded_reading(2));
    send(client, summary(2), o.control_topic);
    RecordingSink sink;
    const Ran r = run(o, client, &sink);
    ASSERT_EQ(sink.seen.size(), 4u) << "control messages are not telemetry";
    EXPECT_EQ(sink.seen[0], "seq 1");
    EXPECT_EQ(sink.seen[1].rfind("corrupt: ", 0), 0u) << sink.seen[1];
    EXPECT_EQ(sink.seen[2].rfind("malformed: ", 0), 0u) << sink.seen[2];
    EXPECT_EQ(sink.seen[3], "seq 2");
    // The verifier, the first sink, saw the same: the corrupt copy did not count as delivered.
    EXPECT_EQ(r.report["corrupt"], 1);
    EXPECT_EQ(r.report["malformed"], 1);
    EXPECT_EQ(r.report["unique"], 2);
    EXPECT_EQ(r.status, kVerificationFailed) << "corrupt and malformed always fail";
}

TEST(SubscriberRun, ACorruptCopyLeavesItsSequenceNumberMissing) {
    FakeClient client;
    const auto o = options();
    send(client, encoded_reading(1));
    std::string corrupt = encoded_reading(2);
    corrupt[corrupt.find("21.50")] = '3';
    send(client, corrupt);
    send(client, summary(2), o.control_topic);
    const Ran r = run(o, client);
    EXPECT_EQ(r.report["corrupt"], 1);
    EXPECT_EQ(r.report["unique"], 1);
    EXPECT_EQ(r.report["missing"], 1) << "only an intact copy counts as delivered";
    EXPECT_EQ(r.report["gaps"][0]["first"], 2);
    EXPECT_EQ(r.report["end_reason"], "idle-timeout");
}

TEST(SubscriberRun, ProgressMessagesOnTheControlTopicAreNotCountedAsMalformed) {
    FakeClient client;
    const auto o = options();
    send(client, telemetry::encode_run_progress({"run-1", 1, 1}), o.control_topic);
    send(client, encoded_reading(1));
    send(client, summary(1), o.control_topic);
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kSuccess);
    EXPECT_EQ(r.report["malformed"], 0);
}

// --- A state directory (--state-dir): the ledger survives the subscriber's own crash.

TEST(SubscriberRun, KilledAndStartedAgainWithItsStateItCountsEveryMessageOnce) {
    testing_support::TempDir tmp;
    const auto o = options();
    std::string client_id;
    {  // the first process: five messages, each batch made durable, then kill -9 (no close)
        SubscriberState state(tmp.path(), "");
        client_id = state.client_id();
        FakeClient client;
        ProgressLine progress("mqtt_subscriber", false);
        SubscriberRun r(o, client, progress, [] { return false; });
        r.keep_state(state);
        for (std::uint64_t seq = 1; seq <= 5; ++seq) send(client, encoded_reading(seq));
        client.poll(std::chrono::milliseconds(0));  // connects
        client.poll(std::chrono::milliseconds(0));  // delivers the batch, then commits it
        EXPECT_EQ(client.batches, 1u);
    }
    {
        SubscriberState state(tmp.path(), "");
        EXPECT_TRUE(state.resuming());
        EXPECT_EQ(state.client_id(), client_id) << "the same broker session";
        FakeClient client;
        // The broker resends 4 and 5 (their PUBACKs died with the process), then the rest.
        for (std::uint64_t seq = 4; seq <= 10; ++seq) send(client, encoded_reading(seq));
        send(client, summary(10), o.control_topic);
        ProgressLine progress("mqtt_subscriber", false);
        SubscriberRun r(o, client, progress, [] { return false; });
        r.keep_state(state);
        EXPECT_EQ(r.run(), kSuccess);
        const nlohmann::json report = r.report();
        EXPECT_EQ(report["unique"], 10);
        EXPECT_EQ(report["duplicates"], 2);
        EXPECT_EQ(report["received"], 12);
        EXPECT_EQ(report["missing"], 0);
        EXPECT_FALSE(client.session_kept) << "the run is over: the broker may forget the session";
    }
    EXPECT_FALSE(SubscriberState(tmp.path(), "").resuming()) << "a finished run starts afresh";
}

TEST(SubscriberRun, WithAStateDirectoryAnUnfinishedRunKeepsItsBrokerSession) {
    testing_support::TempDir tmp;
    SubscriberState state(tmp.path(), "my-id");
    FakeClient client;
    send(client, encoded_reading(1));
    ProgressLine progress("mqtt_subscriber", false);
    const auto o = options();
    SubscriberRun r(o, client, progress, [] { return false; });
    r.keep_state(state);
    EXPECT_EQ(r.run(), kVerificationFailed);  // idle timeout: no summary yet
    EXPECT_TRUE(client.session_kept) << "messages published while we are gone wait for us";
    EXPECT_EQ(state.client_id(), "my-id");
}

TEST(SubscriberRun, ASnapshotAndTheJournalAfterItRestoreTheSameFigures) {
    testing_support::TempDir tmp;
    nlohmann::json before;
    {
        SubscriberState state(tmp.path(), "");
        FakeClient client;
        for (std::uint64_t seq : {1, 2, 2, 4}) send(client, encoded_reading(seq));
        send(client, "not json", "sensors/dev-1/telemetry");
        ProgressLine progress("mqtt_subscriber", false);
        const auto o = options();
        SubscriberRun r(o, client, progress, [] { return false; });
        r.keep_state(state);
        r.run();  // idle timeout: a snapshot of an unfinished run
        before = r.verifier().state();
    }
    SubscriberState state(tmp.path(), "");
    ASSERT_TRUE(state.resuming());
    telemetry::Verifier restored;
    state.restore(restored);
    EXPECT_EQ(restored.state(), before);
    EXPECT_EQ(restored.totals().malformed, 1u);
    EXPECT_EQ(restored.totals().duplicates, 1u);
}

// --- End-to-end repair: what went missing is asked for again, and counted when it comes.

TEST(SubscriberRun, AsksAgainForWhatIsMissingAfterTheSummaryAndCountsWhatRepairBrings) {
    FakeClient client;
    auto o = options();
    o.idle_timeout_s = 5;
    for (std::uint64_t seq : {1, 2, 4, 5}) send(client, encoded_reading(seq));
    send(client, summary(5), o.control_topic);
    std::vector<telemetry::RepairMessage> requests;
    client.on_publish = [&](const std::string& topic, const std::string& payload) {
        std::string error;
        const auto m = telemetry::decode_repair(payload, error);
        ASSERT_TRUE(m) << error;
        EXPECT_EQ(topic, "telemetry/repair/run-1");
        requests.push_back(*m);
        if (!m->done) send(client, encoded_reading(3));  // the publisher's replay buffer answers
    };
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kSuccess);
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[0].ranges, (std::vector<telemetry::RepairRange>{{"dev-1", 3, 3}}));
    EXPECT_TRUE(requests[1].done) << "publishers waiting for requests may stop";
    EXPECT_EQ(r.report["recovered_by_repair"], 1);
    EXPECT_EQ(r.report["missing"], 0);
    EXPECT_EQ(r.report["end_reason"], "complete");
}

TEST(SubscriberRun, WithoutRepairNothingIsAsked) {
    FakeClient client;
    auto o = options();
    o.repair = false;
    for (std::uint64_t seq : {1, 3}) send(client, encoded_reading(seq));
    send(client, summary(3), o.control_topic);
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kVerificationFailed);
    EXPECT_TRUE(client.published.empty());
}

TEST(SubscriberRun, AShareGroupMemberSubscribesThroughShareAndNeverAsksForRepair) {
    FakeClient client;
    auto o = options();
    o.share_group = "g";
    o.repair = false;  // as the parser sets it
    run(o, client);
    EXPECT_EQ(client.filters, (std::vector<std::string>{"$share/g/sensors/+/telemetry",
                                                        o.control_topic, "sensors/+/status"}));
    EXPECT_TRUE(client.published.empty());
}

TEST(SubscriberRun, AShareMemberEndsOnceSummarisedAndQuietVerifyingItsShareOnly) {
    FakeClient client;
    auto o = options();
    o.share_group = "g";
    o.idle_timeout_s = 30;  // the share ends first, after the summary and a quiet spell
    for (std::uint64_t seq : {1, 3, 4, 6}) send(client, encoded_reading(seq));
    send(client, encoded_reading(3));  // a duplicate within the share still counts
    send(client, summary(6), o.control_topic);
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kSuccess);
    EXPECT_EQ(r.report["end_reason"], "share-done");
    EXPECT_EQ(r.report["verified"], true) << r.report["failed_checks"];
    EXPECT_EQ(r.report["share_group"], "g");
    EXPECT_TRUE(r.report["missing"].is_null()) << "the other members have 2 and 5";
    EXPECT_TRUE(r.report["gaps"].empty());
    EXPECT_EQ(r.report["duplicates"], 1);
    // What mqtt_report merges: the ledger with this member's ranges.
    EXPECT_EQ(r.report["state"]["ledger"]["runs"]["run-1"]["devices"]["dev-1"]["delivered"],
              nlohmann::json::parse("[[1,1],[3,4],[6,6]]"));
}

TEST(SubscriberRun, AShareMemberWithACorruptMessageFails) {
    FakeClient client;
    auto o = options();
    o.share_group = "g";
    std::string bad = encoded_reading(2);
    bad[bad.find("21.5")] = '9';
    send(client, encoded_reading(1));
    send(client, bad);
    send(client, summary(4), o.control_topic);
    const Ran r = run(o, client);
    EXPECT_EQ(r.status, kVerificationFailed);
    EXPECT_EQ(r.report["corrupt"], 1);
    EXPECT_EQ(r.report["failed_checks"], nlohmann::json::array({"corrupt 1 > 0"}));
}

}  // namespace
}  // namespace app::subscriber_run_test

#include "report/merge.hpp"

#include <gtest/gtest.h>

#include "telemetry/latency_histogram.hpp"
#include "telemetry/sequence_ledger.hpp"

namespace report {
namespace {

using json = nlohmann::json;

const telemetry::RunSummary kSummary{"r1", 1,     6,
                                     6,    false, {{"a", 3, 3, {}, {}}, {"b", 3, 3, {}, {}}}};

// A subscriber report as mqtt_subscriber writes it: what the merge reads is the "state".
Input member(const std::string& name, const telemetry::DeliveryLedger& ledger,
             double started = 1000.0) {
    telemetry::LatencyHistogram latency;
    latency.record(1500);
    json doc = {{"program", "mqtt_subscriber"},
                {"received", ledger.received()},
                {"unique", ledger.unique()},
                {"end_reason", "share-quiet"},
                {"exit_status", 0},
                {"share_group", "g"},
                {"thresholds", {{"max_missing", 0}}},
                {"started_epoch_s", started},
                {"timeline", json::array({{{"t", 1.0}, {"received", 2}, {"msgs_per_sec", 2.0}},
                                          {{"t", 2.0}, {"received", 3}, {"msgs_per_sec", 1.0}}})},
                {"state",
                 {{"ledger", ledger.state()},
                  {"latency", latency.state()},
                  {"summaries", json::array({"r1"})}}}};
    return {name, doc};
}

TEST(MergeSubscribers, SharesOfOneRunMergeIntoOneExactVerdict) {
    telemetry::DeliveryLedger one, two;
    one.expect(kSummary);
    two.expect(kSummary);
    one.record("r1", "a", 1);
    one.record("r1", "b", 2);
    one.record("r1", "a", 3);
    two.record("r1", "a", 2);
    two.record("r1", "b", 1);
    two.record("r1", "b", 3);
    two.record("r1", "a", 3);  // both members got a3: a duplicate, not a second delivery
    const auto typed = merge_subscribers({member("m1.json", one), member("m2.json", two)});
    const json merged = typed;
    EXPECT_EQ(merged.at("received"), 7);
    EXPECT_EQ(merged.at("unique"), 6);
    EXPECT_EQ(merged.at("expected"), 6);
    EXPECT_EQ(merged.at("missing"), 0);
    EXPECT_EQ(merged.at("duplicates"), 1);
    EXPECT_TRUE(merged.at("verified").get<bool>()) << merged.at("failed_checks");
    EXPECT_EQ(merged.at("latency_us").at("count"), 2);
    EXPECT_EQ(merged.at("members").size(), 2u);
    EXPECT_EQ(merged.at("members")[1].at("report"), "m2.json");
    EXPECT_TRUE(verdict(nullptr, &typed).verified());
}

TEST(MergeSubscribers, LossNoMemberFilledFailsAndIsListed) {
    telemetry::DeliveryLedger one, two;
    one.expect(kSummary);
    one.record("r1", "a", 1);
    one.record("r1", "a", 2);
    two.record("r1", "a", 3);
    two.record("r1", "b", 1);
    const auto typed = merge_subscribers({member("m1", one), member("m2", two)});
    const json merged = typed;
    EXPECT_EQ(merged.at("missing"), 2);
    EXPECT_FALSE(merged.at("verified").get<bool>());
    ASSERT_EQ(merged.at("gaps").size(), 1u);
    EXPECT_EQ(merged.at("gaps")[0].at("device"), "b");
    EXPECT_EQ(merged.at("gaps")[0].at("first"), 2);
    const telemetry::Verdict v = verdict(nullptr, &typed);
    EXPECT_FALSE(v.verified());
    ASSERT_FALSE(v.failed.empty());
    EXPECT_NE(v.failed[0].find("missing 2"), std::string::npos) << v.failed[0];
}

// A subscriber outside any share group: a consumer of its own.
Input independent(const std::string& name, const telemetry::DeliveryLedger& ledger) {
    Input in = member(name, ledger);
    in.doc.erase("share_group");
    return in;
}

TEST(MergeSubscribers, IndependentSubscribersAreAFanOutEachJudgedOnItsOwn) {
    // Both together have every message; alone, b lacks a2: the run is not verified, and the
    // failure names b. Joined as one ledger, a's copy would have hidden b's loss.
    telemetry::DeliveryLedger a, b;
    for (auto* l : {&a, &b}) l->expect(kSummary);
    for (std::uint64_t seq = 1; seq <= 3; ++seq) {
        a.record("r1", "a", seq);
        a.record("r1", "b", seq);
        b.record("r1", "b", seq);
        if (seq != 2) b.record("r1", "a", seq);
    }
    const auto typed = merge_subscribers({independent("a.json", a), independent("b.json", b)});
    const json merged = typed;
    EXPECT_FALSE(typed.verified);
    EXPECT_EQ(merged.at("unique"), 11) << "deliveries: 6 + 5";
    EXPECT_EQ(merged.at("expected"), 12);
    EXPECT_EQ(merged.at("missing"), 1);
    EXPECT_NEAR(merged.at("amplification").get<double>(), 11.0 / 6.0, 1e-9);
    ASSERT_EQ(merged.at("consumers").size(), 2U);
    EXPECT_TRUE(merged.at("consumers")[0].at("verified").get<bool>());
    EXPECT_FALSE(merged.at("consumers")[1].at("verified").get<bool>());
    EXPECT_EQ(merged.at("consumers")[1].at("gaps")[0].at("first"), 2);
    EXPECT_EQ(merged.at("members")[1].at("merged_as"), "independent");
    const telemetry::Verdict v = verdict(nullptr, &typed);
    ASSERT_EQ(v.failed.size(), 1U);
    EXPECT_EQ(v.failed[0].rfind("b.json (independent): missing 1", 0), 0u) << v.failed[0];
}

TEST(MergeSubscribers, ARetainedLastValueOneSubscriberFoundStaleFailsTheMergedRun) {
    // Both ledgers are complete; b's --check-retained found a device's last value stale. The
    // merge keeps both checks' counts and b's failure, named as b's.
    telemetry::DeliveryLedger a, b;
    for (auto* l : {&a, &b}) {
        l->expect(kSummary);
        for (std::uint64_t seq = 1; seq <= 3; ++seq)
            for (const char* device : {"a", "b"}) l->record("r1", device, seq);
    }
    Input in_a = independent("a.json", a), in_b = independent("b.json", b);
    in_a.doc["retained"] = {{"devices", 2}, {"current", 2},    {"stale", 0},
                            {"missing", 0}, {"unreadable", 0}, {"examples", json::array()}};
    in_b.doc["retained"] = {
        {"devices", 2},    {"current", 1},
        {"stale", 1},      {"missing", 0},
        {"unreadable", 0}, {"examples", {"a of run r1: reading 2 retained, the last is 3"}}};
    const auto typed = merge_subscribers({std::move(in_a), std::move(in_b)});
    ASSERT_TRUE(typed.retained.has_value());
    EXPECT_EQ(typed.retained->devices, 4U);
    EXPECT_EQ(typed.retained->stale, 1U);
    EXPECT_FALSE(typed.verified);
    ASSERT_EQ(typed.failed_checks.size(), 1U);
    EXPECT_EQ(typed.failed_checks[0].rfind("b.json (independent): retained last values: 1 of 2", 0),
              0U)
        << typed.failed_checks[0];
}

TEST(MergeSubscribers, AShareGroupAndAnIndependentSubscriberEachReceiveEverything) {
    // The group's members split the run between them; c alone got all of it.
    telemetry::DeliveryLedger m1, m2, c;
    for (auto* l : {&m1, &m2, &c}) l->expect(kSummary);
    for (std::uint64_t seq = 1; seq <= 3; ++seq) {
        m1.record("r1", "a", seq);
        m2.record("r1", "b", seq);
        c.record("r1", "a", seq);
        c.record("r1", "b", seq);
    }
    const auto typed =
        merge_subscribers({member("m1.json", m1), independent("c.json", c), member("m2.json", m2)});
    const json merged = typed;
    EXPECT_TRUE(typed.verified) << merged.at("failed_checks");
    ASSERT_EQ(merged.at("consumers").size(), 2U);
    EXPECT_EQ(merged.at("consumers")[0].at("rule"), "share group g");
    EXPECT_EQ(merged.at("consumers")[0].at("reports"), "m1.json, m2.json");
    EXPECT_EQ(merged.at("consumers")[0].at("unique"), 6);
    EXPECT_EQ(merged.at("consumers")[1].at("rule"), "independent");
    EXPECT_EQ(merged.at("consumers")[0].at("p99_us"), merged.at("latency_us").at("p99"))
        << "each consumer's latency from its own histogram";
    EXPECT_DOUBLE_EQ(merged.at("amplification").get<double>(), 2.0);
    EXPECT_EQ(merged.at("members")[2].at("merged_as"), "share group g");
    // Without m2 the group lacks device b; c still has it, and that does not save the group.
    const auto partial = merge_subscribers({member("m1.json", m1), independent("c.json", c)});
    EXPECT_FALSE(partial.verified);
    ASSERT_FALSE(partial.failed_checks.empty());
    EXPECT_EQ(partial.failed_checks[0].rfind("m1.json (share group g): missing 3", 0), 0u)
        << partial.failed_checks[0];
    // A fan-out merge is not an input for another merge: its ledger is no one consumer's.
    EXPECT_THROW(merge_subscribers({{"fan.json", merged}, member("m3.json", m1)}),
                 std::runtime_error);
}

TEST(MergeSubscribers, AMergedReportMergesAgain) {
    telemetry::DeliveryLedger one, two, three;
    for (auto* l : {&one, &two, &three}) l->expect(kSummary);
    one.record("r1", "a", 1);
    one.record("r1", "a", 2);
    two.record("r1", "a", 3);
    two.record("r1", "b", 1);
    three.record("r1", "b", 2);
    three.record("r1", "b", 3);
    const json first = merge_subscribers({member("m1", one), member("m2", two)});
    const json all = merge_subscribers({{"merged", first}, member("m3", three)});
    EXPECT_EQ(all.at("unique"), 6);
    EXPECT_EQ(all.at("missing"), 0);
    EXPECT_TRUE(all.at("verified").get<bool>());
}

TEST(MergeSubscribers, TimelinesAddUpOnTheWallClock) {
    telemetry::DeliveryLedger one, two;
    one.record("r1", "a", 1);
    two.record("r1", "a", 2);
    // The second member started a second later.
    const json merged = merge_subscribers({member("m1", one, 1000.0), member("m2", two, 1001.0)});
    const json& rows = merged.at("timeline");
    ASSERT_EQ(rows.size(), 3u) << rows;
    EXPECT_EQ(rows[0].at("received"), 2.0);      // m1 only
    EXPECT_EQ(rows[1].at("received"), 5.0);      // m1's 3 + m2's 2
    EXPECT_EQ(rows[2].at("received"), 6.0);      // both done: 3 + 3
    EXPECT_EQ(rows[2].at("msgs_per_sec"), 1.0);  // m1 stopped: only m2's last second counts
}

TEST(MergeSubscribers, EachShardsLatencyIsItsSlowestMembersWithEveryMembersMessages) {
    telemetry::DeliveryLedger one, two;
    Input a = member("m1", one), b = member("m2", two);
    a.doc["latency_by_shard"] = json::array({{{"run", "r1"},
                                              {"shard", 1},
                                              {"shards", 2},
                                              {"p99_us", 900},
                                              {"max_us", 1000},
                                              {"messages", 10}},
                                             {{"run", "r1"},
                                              {"shard", 2},
                                              {"shards", 2},
                                              {"p99_us", 50},
                                              {"max_us", 60},
                                              {"messages", 7}}});
    b.doc["latency_by_shard"] = json::array({{{"run", "r1"},
                                              {"shard", 1},
                                              {"shards", 2},
                                              {"p99_us", 4000},
                                              {"max_us", 4100},
                                              {"messages", 12}}});
    // The slower member comes first: the worst p99 must win, not the last one read.
    const json merged = merge_subscribers({b, a});
    const json& shards = merged.at("latency_by_shard");
    ASSERT_EQ(shards.size(), 2U) << shards.dump();
    EXPECT_EQ(shards[0].at("p99_us"), 4000);
    EXPECT_EQ(shards[0].at("max_us"), 4100);
    EXPECT_EQ(shards[0].at("messages"), 22);
    EXPECT_EQ(shards[1].at("messages"), 7);
}

TEST(MergeSubscribers, EachTransportAddsEveryMembersMessagesAndKeepsTheWorstPercentiles) {
    telemetry::DeliveryLedger one, two;
    Input a = member("m1", one), b = member("m2", two);
    a.doc["elapsed_s"] = 2.0;
    b.doc["elapsed_s"] = 4.0;
    const auto row = [](const char* transport, int messages, int p50, int p99) {
        return json{{"transport", transport}, {"devices", 5},  {"messages", messages},
                    {"msgs_per_sec", 1.0},    {"p50_us", p50}, {"p99_us", p99},
                    {"max_us", p99 + 1}};
    };
    a.doc["latency_by_transport"] = json::array({row("tcp", 100, 10, 90), row("ws", 60, 30, 400)});
    b.doc["latency_by_transport"] = json::array({row("ws", 40, 50, 300)});
    const json merged = merge_subscribers({a, b});
    const json& t = merged.at("latency_by_transport");
    ASSERT_EQ(t.size(), 2U) << t.dump();
    EXPECT_EQ(t[1].at("transport"), "ws");
    EXPECT_EQ(t[1].at("messages"), 100);
    EXPECT_EQ(t[1].at("devices"), 5);
    EXPECT_EQ(t[1].at("p50_us"), 50);
    EXPECT_EQ(t[1].at("p99_us"), 400);
    EXPECT_DOUBLE_EQ(t[1].at("msgs_per_sec").get<double>(), 25.0) << "over the merged 4 s";
    EXPECT_EQ(t[0].at("messages"), 100);
}

TEST(MergeSubscribers, AReportWithoutLedgerStateIsNamed) {
    Input old{"old.json", {{"program", "mqtt_subscriber"}, {"received", 3}}};
    try {
        merge_subscribers({old, old});
        FAIL() << "merged a report without state";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("old.json has no ledger state"), std::string::npos)
            << e.what();
    }
    Input pub{"pub.json", {{"program", "mqtt_publisher"}}};
    EXPECT_THROW(merge_subscribers({pub, pub}), std::runtime_error);
}

json shard(int i, std::uint64_t published, std::uint64_t confirmed, int exit_status = 0) {
    telemetry::LatencyHistogram puback;
    puback.record(800 * i);
    return {{"program", "mqtt_publisher"},
            {"run", "r1"},
            {"shard", {i, 2}},
            {"devices", 5},
            {"published", published},
            {"confirmed", confirmed},
            {"rejected", 0},
            {"unconfirmed", published - confirmed},
            {"elapsed_s", 2.0 * i},
            {"exit_status", exit_status},
            {"end_reason", exit_status == 0 ? "complete" : "connection-lost"},
            {"latency_state", puback.state()},
            {"churn", {{"planned", 1}, {"dropped", 1}, {"returned", 1}}}};
}

TEST(MergePublishers, ShardsAddUp) {
    const auto typed = merge_publishers({{"s1", shard(1, 50, 50)}, {"s2", shard(2, 40, 40)}});
    const json merged = typed;
    EXPECT_EQ(merged.at("published"), 90);
    EXPECT_EQ(merged.at("confirmed"), 90);
    EXPECT_EQ(merged.at("devices"), 10);
    EXPECT_EQ(merged.at("run"), "r1");
    EXPECT_EQ(merged.at("elapsed_s"), 4.0);
    EXPECT_EQ(merged.at("msgs_per_sec"), 22.5);
    EXPECT_EQ(merged.at("puback_latency_us").at("count"), 2);
    EXPECT_EQ(merged.at("churn").at("dropped"), 2);
    EXPECT_EQ(merged.at("members")[1].at("shard"), json::array({2, 2}));
    EXPECT_TRUE(verdict(&typed, nullptr).verified());
}

TEST(MergePublishers, AnUnconfirmedOrFailedShardFailsTheVerdict) {
    const auto typed = merge_publishers({{"s1", shard(1, 50, 47, 1)}, {"s2", shard(2, 40, 40)}});
    const json merged = typed;
    const telemetry::Verdict v = verdict(&typed, nullptr);
    EXPECT_FALSE(v.verified());
    ASSERT_EQ(v.failed.size(), 2u);
    EXPECT_EQ(v.failed[0], "publishers left 3 messages unconfirmed");
    EXPECT_NE(v.failed[1].find("publisher s1 ended with exit status 1"), std::string::npos);
}

}  // namespace
}  // namespace report

namespace report {
namespace {

// A commander's report as mqtt_commander writes it, `answered` of `sent` answered (one
// round trip each of `rt_us`), the rest lost.
Input commander(const std::string& name, std::uint64_t sent, std::uint64_t answered,
                std::int64_t rt_us, double started) {
    telemetry::LatencyHistogram h;
    for (std::uint64_t i = 0; i < answered; ++i) h.record(rt_us);
    CommanderReport r;
    r.run = "c-" + name;
    r.devices = 10;
    r.sent = sent;
    r.delivered = r.answered = answered;
    r.lost = sent - answered;
    r.round_trip_us = summarize(h);
    r.started_epoch_s = started;
    r.timeline = json::array({{{"t", 1.0}, {"sent", sent}, {"answered", answered}}});
    r.end_reason = "complete";
    r.verified = r.lost == 0;
    r.exit_status = r.verified ? 0 : 1;
    if (!r.verified) {
        r.failed_checks = {"lost " + std::to_string(r.lost) + " > --max-lost-commands 0"};
        r.silent_devices = {"sensor-0003 (" + std::to_string(r.lost) + " unanswered)"};
    }
    return {name, json(r)};
}

TEST(MergeCommanders, CountsAddLatenciesMergeByBucketAndTimelinesSumOnTheWallClock) {
    const CommanderReport merged = merge_commanders({commander("c1.json", 100, 100, 10'000, 1000.0),
                                                     commander("c2.json", 50, 50, 40'000, 1000.0)});
    EXPECT_TRUE(merged.merged);
    EXPECT_EQ(merged.sent, 150u);
    EXPECT_EQ(merged.answered, 150u);
    EXPECT_EQ(merged.devices, 20u);
    EXPECT_EQ(merged.round_trip_us.count, 150u);
    EXPECT_NEAR(static_cast<double>(merged.round_trip_us.p50), 10'000, 100);
    EXPECT_NEAR(static_cast<double>(merged.round_trip_us.p99), 40'000, 400)
        << "the slower shard's third decides the p99";
    EXPECT_EQ(merged.timeline.at(0).at("answered"), 150);
    EXPECT_EQ(merged.members.size(), 2u);
    EXPECT_EQ(merged.run, "c-c1.json,c-c2.json");
    EXPECT_TRUE(merged.verified);
    EXPECT_TRUE(verdict(nullptr, nullptr, &merged).verified());
}

TEST(MergeCommanders, AShardThatLostCommandsFailsTheRunUnderItsOwnName) {
    const CommanderReport merged = merge_commanders({commander("c1.json", 100, 100, 10'000, 1000.0),
                                                     commander("c2.json", 50, 40, 10'000, 1000.0)});
    EXPECT_EQ(merged.lost, 10u);
    EXPECT_FALSE(merged.verified);
    EXPECT_EQ(merged.exit_status, 1);
    ASSERT_EQ(merged.silent_devices.size(), 1u);
    const telemetry::Verdict v = verdict(nullptr, nullptr, &merged);
    ASSERT_EQ(v.failed.size(), 1u) << v.failed.size();
    EXPECT_EQ(v.failed[0], "commands: c2.json: lost 10 > --max-lost-commands 0");
}

TEST(MergeCommanders, ACommandLedgerThatFailedFailsAVerifiedTelemetryRun) {
    const CommanderReport failed = read_commander(commander("c.json", 10, 9, 1'000, 1.0));
    PublisherReport pub;
    pub.published = pub.confirmed = 10;
    pub.exit_status = 0;
    EXPECT_TRUE(verdict(&pub, nullptr).verified());
    const telemetry::Verdict v = verdict(&pub, nullptr, &failed);
    EXPECT_FALSE(v.verified());
    EXPECT_EQ(v.exit_status, 1);
    EXPECT_EQ(v.failed.size(), 1u) << "the commander's exit 1 is explained by its check";
}

TEST(MergeCommanders, AnotherProgramsReportIsRefusedByName) {
    EXPECT_THROW(
        {
            try {
                merge_commanders({{"pub.json", json{{"program", "mqtt_publisher"}}}});
            } catch (const std::runtime_error& e) {
                EXPECT_STREQ(e.what(), "pub.json is not a mqtt_commander report");
                throw;
            }
        },
        std::runtime_error);
}

}  // namespace
}  // namespace report

namespace report {
namespace {

TEST(MergePublishers, TheDevicesCommandCountsAddUpOverTheShardsThatTookThem) {
    const auto shard = [](std::uint64_t executed, bool commands) {
        PublisherReport r;
        r.published = r.confirmed = 10;
        r.exit_status = 0;
        if (commands)
            r.commands = DeviceCommands{executed + 1, executed, 1, 0, 2 * executed + 2, 0};
        return Input{"p.json", json(r)};
    };
    const PublisherReport merged =
        merge_publishers({shard(5, true), shard(7, true), shard(0, false)});
    ASSERT_TRUE(merged.commands.has_value());
    EXPECT_EQ(merged.commands->executed, 12u);
    EXPECT_EQ(merged.commands->executed_again, 2u);
    EXPECT_EQ(merged.commands->received, 14u);
    EXPECT_FALSE(merge_publishers({shard(0, false)}).commands.has_value());
}

}  // namespace
}  // namespace report

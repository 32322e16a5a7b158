#include "telemetry/sequence_ledger.hpp"

#include <gtest/gtest.h>

#include "telemetry/payload.hpp"

namespace telemetry {
namespace {

using Outcome = SequenceLedger::Outcome;

TEST(SequenceLedger, InOrderStreamHasNoGaps) {
    SequenceLedger l;
    for (std::uint64_t s = 1; s <= 1000; ++s) ASSERT_EQ(l.record(s), Outcome::InOrder);
    EXPECT_EQ(l.unique(), 1000u);
    EXPECT_EQ(l.highest(), 1000u);
    EXPECT_EQ(l.missing_up_to(1000), 0u);
    EXPECT_TRUE(l.gaps_up_to(1000, 10).empty());
}

TEST(SequenceLedger, RepeatedNumberIsADuplicate) {
    SequenceLedger l;
    l.record(1);
    l.record(2);
    EXPECT_EQ(l.record(1), Outcome::Duplicate);
    EXPECT_EQ(l.record(2), Outcome::Duplicate);
    EXPECT_EQ(l.unique(), 2u);
}

TEST(SequenceLedger, LateArrivalIsOutOfOrderAndFillsTheGap) {
    SequenceLedger l;
    l.record(1);
    l.record(3);
    EXPECT_EQ(l.missing_up_to(3), 1u);
    EXPECT_EQ(l.record(2), Outcome::OutOfOrder);
    EXPECT_EQ(l.missing_up_to(3), 0u);
    EXPECT_EQ(l.record(2), Outcome::Duplicate);
}

TEST(SequenceLedger, GapsAreListedLowestFirstWithTheTail) {
    SequenceLedger l;
    for (std::uint64_t s : {2, 3, 7, 8, 9}) l.record(s);
    const std::vector<SeqRange> expected{{1, 1}, {4, 6}, {10, 12}};
    EXPECT_EQ(l.gaps_up_to(12, 10), expected);
    EXPECT_EQ(l.missing_up_to(12), 7u);
    EXPECT_EQ(l.gaps_up_to(12, 2).size(), 2u);
}

TEST(SequenceLedger, FillingBetweenTwoRangesMergesThem) {
    SequenceLedger l;
    for (std::uint64_t s : {1, 2, 4, 5}) l.record(s);
    EXPECT_EQ(l.record(3), Outcome::OutOfOrder);
    EXPECT_TRUE(l.gaps_up_to(5, 10).empty());
    EXPECT_EQ(l.record(6), Outcome::InOrder);
}

TEST(SequenceLedger, ReverseOrderArrivalCountsEveryOneOnce) {
    SequenceLedger l;
    EXPECT_EQ(l.record(100), Outcome::InOrder);
    for (std::uint64_t s = 99; s >= 1; --s) ASSERT_EQ(l.record(s), Outcome::OutOfOrder);
    EXPECT_EQ(l.unique(), 100u);
    EXPECT_EQ(l.missing_up_to(100), 0u);
}

TEST(SequenceLedger, NumbersBeyondTheExpectedEndDoNotHideMissingOnes) {
    SequenceLedger l;
    for (std::uint64_t s : {1, 2, 11, 12}) l.record(s);
    EXPECT_EQ(l.missing_up_to(10), 8u);
}

TEST(DeliveryLedger, SummaryRevealsLossAtTheEndAndSilentDevices) {
    DeliveryLedger l;
    for (std::uint64_t s = 1; s <= 8; ++s) l.record("r1", "a", s);
    EXPECT_EQ(l.totals().missing, 0u);  // without a summary the tail is unknown
    l.expect(RunSummary{"r1", 1, 15, 15, false, {{"a", 10, 10, {}, {}}, {"b", 5, 5, {}, {}}}});
    const LedgerTotals t = l.totals();
    EXPECT_EQ(t.unique, 8u);
    EXPECT_EQ(t.expected, 15u);
    EXPECT_EQ(t.missing, 7u);
    EXPECT_FALSE(l.complete());
    const auto gaps = l.gaps(10);
    ASSERT_EQ(gaps.size(), 2u);
    EXPECT_EQ(gaps[0].device, "a");
    EXPECT_EQ(gaps[0].range, (SeqRange{9, 10}));
    EXPECT_EQ(gaps[1].device, "b");
    EXPECT_EQ(gaps[1].range, (SeqRange{1, 5}));
}

TEST(DeliveryLedger, CountsDevicesSeenCompleteAndWithLoss) {
    DeliveryLedger l;
    for (std::uint64_t s = 1; s <= 3; ++s) l.record("r1", "a", s);  // complete
    l.record("r1", "b", 1);                                         // loses 2
    l.record("r1", "b", 3);
    l.record("r2", "a", 1);  // another run's "a" is another device
    l.expect(RunSummary{
        "r1", 1, 9, 9, false, {{"a", 3, 3, {}, {}}, {"b", 3, 3, {}, {}}, {"c", 3, 3, {}, {}}}});
    const LedgerTotals t = l.totals();
    EXPECT_EQ(t.devices, 4u);            // r1/a, r1/b, r1/c, r2/a
    EXPECT_EQ(t.devices_seen, 3u);       // r1/c never sent a reading that arrived
    EXPECT_EQ(t.devices_complete, 2u);   // r1/a, r2/a
    EXPECT_EQ(t.devices_with_loss, 2u);  // r1/b, r1/c
}

TEST(DeliveryLedger, OnlyDevicesOnTopicsInScopeAreExpected) {
    DeliveryLedger l;
    for (std::uint64_t s = 1; s <= 3; ++s) l.record("r1", "a", s);
    const auto site1 = [](std::string_view topic) { return topic.starts_with("site1/"); };
    const RunSummary summary{"r1",
                             1,
                             9,
                             9,
                             false,
                             {{"a", 3, 3, {}, "site1/a"},
                              {"b", 3, 3, {}, "site2/b"},
                              {"c", 3, 3, {}, "site2/c"},
                              {"d", 3, 3, {}, {}}}};  // names no topic: expected
    l.expect(summary, site1);
    LedgerTotals t = l.totals();
    EXPECT_EQ(t.expected, 6u);  // a and d
    EXPECT_EQ(t.missing, 3u);   // d's three
    EXPECT_EQ(t.devices_outside, 2u);
    l.expect(summary, site1);  // the same summary again counts its devices once
    EXPECT_EQ(l.totals().devices_outside, 2u);
    EXPECT_EQ(DeliveryLedger::from_state(l.state()).totals().devices_outside, 2u);
    // Merged with a consumer of b, only what is outside both stays outside: c.
    DeliveryLedger other;
    other.expect(summary, [](std::string_view topic) { return topic == "site2/b"; });
    EXPECT_EQ(other.totals().devices_outside, 2u);  // a and c; d names no topic
    l.merge(other);
    t = l.totals();
    EXPECT_EQ(t.devices_outside, 1u);
    EXPECT_EQ(t.expected, 9u);
    // Without a scope every device is expected.
    DeliveryLedger all;
    all.expect(summary);
    EXPECT_EQ(all.totals().expected, 12u);
    EXPECT_EQ(all.totals().devices_outside, 0u);
}

TEST(DeliveryLedger, CompleteOnlyOnceEverySummarisedMessageArrived) {
    DeliveryLedger l;
    EXPECT_FALSE(l.complete());
    l.expect(RunSummary{"r1", 1, 4, 4, false, {{"a", 2, 2, {}, {}}, {"b", 2, 2, {}, {}}}});
    l.record("r1", "a", 1);
    l.record("r1", "a", 2);
    l.record("r1", "b", 2);
    EXPECT_FALSE(l.complete());
    l.record("r1", "b", 1);
    EXPECT_TRUE(l.complete());
}

TEST(DeliveryLedger, AShardedRunIsCompleteOnlyWithEveryShardsSummary) {
    DeliveryLedger l;
    l.record("r1", "a", 1);
    l.record("r1", "b", 1);
    l.expect(RunSummary{"r1", 1, 1, 1, false, {{"a", 1, 1, {}, {}}}, 1, 2});
    EXPECT_FALSE(l.complete()) << "shard 2 of 2 has not summarised";
    l.expect(RunSummary{"r1", 1, 1, 1, false, {{"a", 1, 1, {}, {}}}, 1, 2});  // shard 1 redelivered
    EXPECT_FALSE(l.complete());
    EXPECT_EQ(l.totals().contradictions, 0u) << "the same summary again is no contradiction";
    l.expect(RunSummary{"r1", 1, 1, 1, false, {{"b", 1, 1, {}, {}}}, 2, 2});
    EXPECT_TRUE(l.complete());
    const DeliveryLedger restored = DeliveryLedger::from_state(l.state());
    EXPECT_TRUE(restored.complete());
}

// Before issue 29 each of these was VERIFIED (e.g. "unique 1785 of 1000 expected").
TEST(DeliveryLedger, ASummaryAnnouncingLessThanArrivedIsAContradiction) {
    DeliveryLedger l;
    for (std::uint64_t s = 1; s <= 5; ++s) l.record("r1", "a", s);
    l.expect(RunSummary{"r1", 1, 3, 3, false, {{"a", 3, 3, {}, {}}}});
    EXPECT_EQ(l.totals().contradictions, 1u);
    EXPECT_EQ(l.contradiction_examples().at(0),
              "run r1 device a: readings up to 5 arrived, the run summary announced 3");
}

TEST(DeliveryLedger, AReadingBeyondTheAnnouncedLastIsAContradiction) {
    DeliveryLedger l;
    l.expect(RunSummary{"r1", 1, 2, 2, false, {{"a", 2, 2, {}, {}}}});
    l.record("r1", "a", 1);
    l.record("r1", "a", 2);
    EXPECT_EQ(l.totals().contradictions, 0u);
    l.record("r1", "a", 3);
    EXPECT_EQ(l.totals().contradictions, 1u);
    EXPECT_EQ(l.contradiction_examples().at(0),
              "run r1 device a: reading 3 arrived beyond the announced last 2");
}

TEST(DeliveryLedger, ADuplicateWithOtherContentIsAContradictionTheSameContentARedelivery) {
    DeliveryLedger l;
    l.record("r1", "a", 1, 111);
    l.record("r1", "a", 2, 222);
    l.record("r1", "a", 2, 222);  // a QoS 1 redelivery
    l.record("r1", "a", 1, 0);    // content unknown (a replayed journal): not compared
    EXPECT_EQ(l.totals().contradictions, 0u);
    EXPECT_EQ(l.totals().duplicates, 2u);
    l.record("r1", "a", 2, 999);  // another publisher's reading 2
    EXPECT_EQ(l.totals().contradictions, 1u);
    EXPECT_EQ(l.contradiction_examples().at(0),
              "run r1 device a: reading 2 arrived twice with different values (another "
              "publisher using this run id?)");
    l.record("r2", "a", 2, 999);  // the same numbers in another run are another reading
    EXPECT_EQ(l.totals().contradictions, 1u);
}

TEST(DeliveryLedger, AFleetMembersSmallerRecentTableStillComparesTheRecentReadings) {
    DeliveryLedger l;
    EXPECT_EQ(l.recent_readings(), 32768u);  // 512 KB: one subscriber alone
    l.keep_recent(5000);
    EXPECT_EQ(l.recent_readings(), 4096u);  // rounded down to a power of two
    l.keep_recent(300);
    EXPECT_EQ(l.recent_readings(), 1024u);  // never below 1,024
    for (std::uint64_t seq = 1; seq <= 200; ++seq) l.record("r1", "a", seq, 1000 + seq);
    l.record("r1", "a", 150, 1150);  // a redelivery
    l.record("r1", "a", 199, 7);     // another reading under a recent number
    EXPECT_EQ(l.totals().duplicates, 2u);
    EXPECT_EQ(l.totals().contradictions, 1u);
}

TEST(ContentDigest, IgnoresTheSendTimeAndWhatFollowsItButNotTheOtherValues) {
    Reading r{"r1", "a", 7, 1'000, 21.5, 40.0, 1013.25, 80.0, SensorFault::None, false};
    Reading resent = r;
    resent.ts_us = 9'000;
    resent.temperature_c = 21.6;  // the daily cycle moved on
    resent.humidity_pct = 39.8;
    EXPECT_EQ(content_digest(r), content_digest(resent));
    Reading other = r;
    other.pressure_hpa = 1013.26;
    EXPECT_NE(content_digest(r), content_digest(other));
    EXPECT_NE(content_digest(r), 0u);
}

TEST(DeliveryLedger, ASecondSummaryThatDiffersIsAContradictionAndIgnored) {
    DeliveryLedger l;
    l.record("r1", "a", 1);
    l.expect(RunSummary{"r1", 1, 1, 1, false, {{"a", 1, 1, {}, {}}}});
    l.expect(RunSummary{"r1", 1, 9, 9, false, {{"a", 9, 9, {}, {}}}});
    EXPECT_EQ(l.totals().contradictions, 1u);
    EXPECT_EQ(l.totals().missing, 0u) << "the first summary stands";
    EXPECT_EQ(l.contradiction_examples().at(0),
              "run r1: a second run summary differs from the first");
    const DeliveryLedger restored = DeliveryLedger::from_state(l.state());
    EXPECT_EQ(restored.totals().contradictions, 1u);
}

TEST(DeliveryLedger, AnInterruptedPublishersSummaryIsSupersededByTheResumedOnes) {
    DeliveryLedger l;
    l.record("r1", "a", 1);
    l.expect(RunSummary{"r1", 1, 1, 1, true, {{"a", 1, 1, {}, {}}}});  // Ctrl-C, then resumed
    l.record("r1", "a", 2);
    l.record("r1", "a", 3);
    l.expect(RunSummary{"r1", 1, 3, 3, false, {{"a", 3, 3, {}, {}}}});
    EXPECT_EQ(l.totals().contradictions, 0u);
    EXPECT_TRUE(l.complete());
    l.expect(RunSummary{"r1", 1, 4, 4, false, {{"a", 4, 4, {}, {}}}});
    EXPECT_EQ(l.totals().contradictions, 1u) << "a final summary is final";
}

TEST(DeliveryLedger, ARunStillGoingKeepsTheLedgerIncomplete) {
    // Before issue 29 the subscriber ended at the first run's summary and left the second
    // run's readings unverified without a word.
    DeliveryLedger l;
    l.record("r1", "a", 1);
    l.record("r2", "a", 1);
    l.expect(RunSummary{"r1", 1, 1, 1, false, {{"a", 1, 1, {}, {}}}});
    EXPECT_FALSE(l.complete());
    EXPECT_EQ(l.totals().runs_unsummarised, 1u);
    l.expect(RunSummary{"r2", 1, 1, 1, false, {{"a", 1, 1, {}, {}}}});
    EXPECT_TRUE(l.complete());
}

TEST(DeliveryLedger, RunsAreKeptApart) {
    DeliveryLedger l;
    l.record("r1", "a", 1);
    EXPECT_EQ(l.record("r2", "a", 1), SequenceLedger::Outcome::InOrder);
    EXPECT_EQ(l.record("r1", "a", 1), SequenceLedger::Outcome::Duplicate);
    const LedgerTotals t = l.totals();
    EXPECT_EQ(t.received, 3u);
    EXPECT_EQ(t.unique, 2u);
    EXPECT_EQ(t.duplicates, 1u);
    EXPECT_EQ(l.unique(), 2u);
}

TEST(DeliveryLedger, CountsOutOfOrderAndMalformed) {
    DeliveryLedger l;
    l.record("r", "a", 2);
    l.record("r", "a", 1);
    l.record_malformed();
    const LedgerTotals t = l.totals();
    EXPECT_EQ(t.out_of_order, 1u);
    EXPECT_EQ(t.malformed, 1u);
    EXPECT_EQ(t.missing, 0u);
}

TEST(SequenceLedger, MergeJoinsTwoSharesAndCountsNumbersBothHad) {
    SequenceLedger odd, even;
    for (std::uint64_t s = 1; s <= 9; s += 2) odd.record(s);
    for (std::uint64_t s = 2; s <= 10; s += 2) even.record(s);
    even.record(5);  // both saw 5
    EXPECT_EQ(odd.merge(even), 1u);
    EXPECT_EQ(odd.unique(), 10u);
    EXPECT_EQ(odd.highest(), 10u);
    EXPECT_EQ(odd.missing_up_to(12), 2u);
    EXPECT_EQ(odd.gaps_up_to(12, 5), (std::vector<SeqRange>{{11, 12}}));
    EXPECT_EQ(odd.state(), nlohmann::json::parse("[[1,10]]"));
}

TEST(SequenceLedger, MergeWithAnEmptyLedgerChangesNothing) {
    SequenceLedger l, empty;
    l.record(3);
    l.record(4);
    EXPECT_EQ(l.merge(empty), 0u);
    EXPECT_EQ(empty.merge(l), 0u);
    EXPECT_EQ(empty.state(), l.state());
    EXPECT_EQ(empty.unique(), 2u);
}

TEST(DeliveryLedger, MergedSharesGiveOneExactVerdict) {
    // Two shared-subscription members, each with half of device a: neither is complete, the
    // merge is, and a message both got counts once as delivered and once as a duplicate.
    DeliveryLedger one, two;
    const RunSummary summary{"r1", 1, 4, 4, false, {{"a", 4, 4, {}, {}}}};
    one.expect(summary);
    two.expect(summary);
    one.record("r1", "a", 1);
    one.record("r1", "a", 3);
    two.record("r1", "a", 2);
    two.record("r1", "a", 4);
    two.record("r1", "a", 3);
    EXPECT_FALSE(one.complete());
    EXPECT_FALSE(two.complete());
    one.merge(two);
    EXPECT_TRUE(one.complete());
    const LedgerTotals t = one.totals();
    EXPECT_EQ(t.received, 5u);
    EXPECT_EQ(t.unique, 4u);
    EXPECT_EQ(t.duplicates, 1u);
    EXPECT_EQ(t.missing, 0u);
    EXPECT_EQ(t.devices, 1u);
}

TEST(DeliveryLedger, MergeJoinsTheShardsSummariesOfEachSide) {
    DeliveryLedger a, b;
    a.record("r1", "x", 1);
    a.expect(RunSummary{"r1", 1, 1, 1, false, {{"x", 1, 1, {}, {}}}, 1, 2});
    b.record("r1", "y", 1);
    b.expect(RunSummary{"r1", 1, 1, 1, false, {{"y", 1, 1, {}, {}}}, 2, 2});
    EXPECT_FALSE(a.complete());
    a.merge(DeliveryLedger::from_state(b.state()));
    EXPECT_TRUE(a.complete());
    EXPECT_EQ(a.totals().unique, 2u);
}

TEST(DeliveryLedger, MergeKeepsLossThatNoSideFilled) {
    DeliveryLedger a, b;
    a.expect(RunSummary{"r1", 1, 3, 3, false, {{"x", 3, 3, {}, {}}}});
    a.record("r1", "x", 1);
    b.record("r1", "x", 3);
    b.record_corrupt();
    a.merge(b);
    const LedgerTotals t = a.totals();
    EXPECT_EQ(t.missing, 1u);
    EXPECT_EQ(t.corrupt, 1u);
    EXPECT_FALSE(a.complete());
    ASSERT_EQ(a.gaps(5).size(), 1u);
    EXPECT_EQ(a.gaps(5)[0].range, (SeqRange{2, 2}));
}

}  // namespace
}  // namespace telemetry

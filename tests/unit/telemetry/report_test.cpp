#include "telemetry/report.hpp"

#include <gtest/gtest.h>

namespace telemetry {
namespace {

LedgerTotals clean(std::uint64_t n) {
    LedgerTotals t;
    t.received = t.unique = t.expected = n;
    return t;
}

TEST(Verdict, CleanRunPassesDefaultThresholds) {
    LatencyHistogram h;
    h.record(1000);
    EXPECT_TRUE(failed_checks(clean(10), h, {}).empty());
}

TEST(Verdict, EachProblemIsNamed) {
    LatencyHistogram h;
    for (int i = 0; i < 100; ++i) h.record(20'000);  // 20 ms
    LedgerTotals t = clean(10);
    t.missing = 3;
    t.malformed = 1;
    t.corrupt = 2;
    t.duplicates = 5;
    const auto failed = failed_checks(t, h, Thresholds{2, 4, 10.0});
    ASSERT_EQ(failed.size(), 5u);
    EXPECT_EQ(failed[0], "missing 3 > --max-missing 2");
    EXPECT_EQ(failed[1], "malformed 1 > 0");
    EXPECT_EQ(failed[2], "corrupt 2 > 0");
    EXPECT_EQ(failed[3], "duplicates 5 > --max-duplicates 4");
    EXPECT_NE(failed[4].find("--max-p99-ms 10"), std::string::npos) << failed[4];
}

TEST(Verdict, ToleratedLossPassesWithMaxMissing) {
    LedgerTotals t = clean(10);
    t.missing = 2;
    EXPECT_TRUE(failed_checks(t, LatencyHistogram{}, Thresholds{2, {}, {}}).empty());
}

TEST(Verdict, NothingReceivedFails) {
    EXPECT_EQ(failed_checks(LedgerTotals{}, LatencyHistogram{}, {}),
              std::vector<std::string>{"no message arrived"});
}

TEST(Verdict, ALatencyThresholdOverSkewedClocksFailsSayingSo) {
    // Before issue 29: every latency negative showed as 0.00 ms and --max-p99-ms 50 passed.
    LatencyHistogram h;
    for (int i = 0; i < 10; ++i) h.record(-600'000'000 + i);  // the sender 10 minutes ahead
    const auto failed = failed_checks(clean(10), h, Thresholds{0, {}, 50.0});
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(failed[0],
              "--max-p99-ms 50 cannot be checked: the clocks disagree (10 latencies negative, the "
              "most negative -600000.000 ms)");
}

TEST(Verdict, ALatencyThresholdWithoutSamplesFails) {
    LedgerTotals t = clean(10);
    const auto failed = failed_checks(t, LatencyHistogram{}, Thresholds{0, {}, 50.0});
    EXPECT_EQ(failed,
              std::vector<std::string>{"--max-p99-ms 50 cannot be checked: no latency sample"});
}

TEST(Verdict, ARunWithoutItsSummaryFails) {
    LedgerTotals t = clean(10);
    t.runs_unsummarised = 2;
    EXPECT_EQ(
        failed_checks(t, LatencyHistogram{}, {}),
        std::vector<std::string>{"2 runs without a run summary: what was published is unknown"});
}

// The head says what ran, when, where and how: for a merged run, every member's command.
// Sections only with content: no status line where no device published a status, no ranking
// of devices whose p99s the sketch cannot tell apart; a ranking by p99, then by name.
TEST(Timeline, CsvHasAHeaderAndOneLinePerSecond) {
    const std::vector<SubscriberSecond> rows{{1.0, 10, 10, 0, 0, 0, 10.0, 500, 900},
                                             {2.0, 30, 29, 1, 1, 0, 19.0, 600, 1200}};
    EXPECT_EQ(timeline_csv(rows),
              "t_s,received,unique,missing,duplicates,corrupt,msgs_per_sec,p50_us,p99_us\n"
              "1.000,10,10,0,0,0,10.0,500,900\n"
              "2.000,30,29,1,1,0,19.0,600,1200\n");
}
}  // namespace
}  // namespace telemetry

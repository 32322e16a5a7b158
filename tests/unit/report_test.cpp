#include "telemetry/report.hpp"

#include <gtest/gtest.h>

#include "report/html_report.hpp"
#include "report/model.hpp"

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

TEST(Timeline, CsvHasAHeaderAndOneLinePerSecond) {
    const std::vector<SubscriberSecond> rows{{1.0, 10, 10, 0, 0, 0, 10.0, 500, 900},
                                             {2.0, 30, 29, 1, 1, 0, 19.0, 600, 1200}};
    EXPECT_EQ(timeline_csv(rows),
              "t_s,received,unique,missing,duplicates,corrupt,msgs_per_sec,p50_us,p99_us\n"
              "1.000,10,10,0,0,0,10.0,500,900\n"
              "2.000,30,29,1,1,0,19.0,600,1200\n");
}

TEST(HtmlReport, HasTheVerdictLineChartsAndEscapesText) {
    LatencyHistogram h;
    h.record(3100);
    nlohmann::json sub = {
        {"unique", 1000000},
        {"received", 1000000},
        {"expected", 1000000},
        {"missing", 0},
        {"duplicates", 0},
        {"malformed", 0},
        {"corrupt", 0},
        {"verified", true},
        {"exit_status", 0},
        {"latency_us", report::summarize(h)},
        {"timeline", to_json(std::vector<SubscriberSecond>{{1.0, 5, 5, 0, 0, 0, 5.0, 3100, 3100}})},
        {"gaps",
         nlohmann::json::array(
             {{{"run", "r<1>"}, {"device", "d"}, {"first", 1}, {"last", 2}, {"count", 2}}})}};
    nlohmann::json pub = {{"published", 1000000}, {"confirmed", 1000000}, {"exit_status", 0}};
    const auto p = pub.get<report::PublisherReport>();
    const auto s = sub.get<report::SubscriberReport>();
    const std::string html = report::render_html(&p, &s);
    // The whole verdict element: "VERIFIED" alone is also a substring of "NOT VERIFIED".
    EXPECT_NE(html.find(R"(<h1 id="verdict" class="pass">VERIFIED — 1,000,000 sent)"),
              std::string::npos);
    EXPECT_NE(html.find("1,000,000 sent · 1,000,000 confirmed · 1,000,000 received · 0 missing · 0 "
                        "duplicates · p99 3.10 ms"),
              std::string::npos);
    EXPECT_NE(html.find(R"(id="throughput-chart")"), std::string::npos);
    EXPECT_NE(html.find(R"(id="latency-chart")"), std::string::npos);
    EXPECT_NE(html.find(R"(id="latency-histogram")"), std::string::npos);
    EXPECT_NE(html.find("r&lt;1&gt;"), std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find("http"), std::string::npos) << "no external resources";
}

// The head says what ran, when, where and how: for a merged run, every member's command.
TEST(HtmlReport, TheHeadNamesTheRunItsStartTheHostsAndTheCommands) {
    report::PublisherReport p;
    p.run = "a1b2c3d4";
    p.started_epoch_s = 1796323535.9;
    p.host = "sensor-host";
    p.command = "mqtt_publisher -p 1884 -n 1000";
    report::SubscriberReport s;
    s.merged = true;
    s.started_epoch_s = 1796323534.2;
    report::Member a, b;
    a.host = b.host = "consumer<1>";
    a.command = "mqtt_subscriber --share-group g";
    b.command = "mqtt_subscriber --share-group g -i second";
    s.members = {a, b};
    const std::string html = report::render_html(&p, &s);
    EXPECT_NE(html.find("<dt>Run</dt><dd>a1b2c3d4</dd>"), std::string::npos) << html;
    EXPECT_NE(html.find("<dt>Started</dt><dd>2026-12-03 18:45:34 UTC</dd>"), std::string::npos)
        << "the earliest start";
    EXPECT_NE(html.find("<dt>Hosts</dt><dd>sensor-host, consumer&lt;1&gt;</dd>"),
              std::string::npos);
    EXPECT_NE(html.find("<code>mqtt_publisher -p 1884 -n 1000</code><br>"
                        "<code>mqtt_subscriber --share-group g</code><br>"
                        "<code>mqtt_subscriber --share-group g -i second</code><br>"),
              std::string::npos);
    EXPECT_LT(html.find(R"(id="run")"), html.find(R"(id="figures")")) << "at the top";
}

// Sections only with content: no status line where no device published a status, no ranking
// of devices whose p99s the sketch cannot tell apart; a ranking by p99, then by name.
TEST(HtmlReport, DeviceSectionsAppearOnlyWithSomethingToShow) {
    report::SubscriberReport s;
    s.device_status = report::DeviceStatus{"sensors/+/status", 0, 0, 0, {}};
    s.slowest_devices = {{"d2", 5020, 6000, 10}, {"d1", 5010, 6100, 10}};
    std::string html = report::render_html(nullptr, &s);
    EXPECT_EQ(html.find(R"(id="device-status")"), std::string::npos) << "no status was seen";
    EXPECT_NE(html.find("No device is measurably slower"), std::string::npos);
    EXPECT_EQ(html.find("<table id=\"slowest-devices\""), std::string::npos);

    s.device_status->changes = 3;
    s.slowest_devices = {{"d3", 5000, 6000, 10}, {"d1", 9000, 9900, 10}, {"d2", 9000, 9800, 10}};
    html = report::render_html(nullptr, &s);
    EXPECT_NE(html.find(R"(id="device-status")"), std::string::npos);
    const auto d1 = html.find("<td>d1</td>"), d2 = html.find("<td>d2</td>"),
               d3 = html.find("<td>d3</td>");
    ASSERT_NE(d3, std::string::npos);
    EXPECT_LT(d1, d2) << "equal p99: by name";
    EXPECT_LT(d2, d3) << "by p99, highest first";
    EXPECT_NE(html.find("<th>out of order</th>"), std::string::npos) << "labels in prose";
}

TEST(HtmlReport, AFailedRunSaysNotVerifiedInTheFailClass) {
    nlohmann::json sub = {{"unique", 9},
                          {"received", 9},
                          {"expected", 10},
                          {"missing", 1},
                          {"duplicates", 0},
                          {"malformed", 0},
                          {"corrupt", 0},
                          {"verified", false},
                          {"failed_checks", {"missing 1 > --max-missing 0"}},
                          {"timeline", nlohmann::json::array()}};
    const auto s = sub.get<report::SubscriberReport>();
    const std::string html = report::render_html(nullptr, &s);
    EXPECT_NE(html.find(R"(<h1 id="verdict" class="fail">NOT VERIFIED — )"), std::string::npos);
    EXPECT_EQ(html.find(R"(class="pass")"), std::string::npos);
    EXPECT_NE(html.find("<li>missing 1 &gt; --max-missing 0</li>"), std::string::npos);
}

TEST(HtmlReport, AShareMemberSaysItsShareInsteadOfMissing) {
    nlohmann::json sub = {
        {"unique", 9},        {"received", 9},      {"expected", 20},
        {"missing", nullptr}, {"duplicates", 0},    {"verified", true},
        {"exit_status", 0},   {"share_group", "g"}, {"timeline", nlohmann::json::array()}};
    const auto s = sub.get<report::SubscriberReport>();
    const std::string html = report::render_html(nullptr, &s);
    EXPECT_NE(html.find(R"(<h1 id="verdict" class="pass">SHARE VERIFIED — 20 sent · 9 received )"
                        R"(· share of group g · 0 duplicates)"),
              std::string::npos)
        << html.substr(0, 3000);
}

}  // namespace
}  // namespace telemetry

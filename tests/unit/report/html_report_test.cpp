// The HTML page of a run: its verdict line, charts, head and device sections, text escaped.
#include "report/html_report.hpp"

#include <gtest/gtest.h>

#include "report/model.hpp"
#include "telemetry/latency_histogram.hpp"

namespace telemetry {
namespace {

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

TEST(HtmlReport, ShardLatenciesAppearOnlyForARunOfSeveralShards) {
    report::SubscriberReport s;
    EXPECT_EQ(report::render_html(nullptr, &s).find("latency-by-shard"), std::string::npos);
    s.latency_by_shard = {{"r<1>", 1, 2, 4'989'000, 5'100'000, 100'000},
                          {"r<1>", 2, 2, 12'000, 30'000, 100'000}};
    const std::string html = report::render_html(nullptr, &s);
    EXPECT_NE(html.find(R"(<table id="latency-by-shard")"), std::string::npos);
    EXPECT_NE(html.find("<td>r&lt;1&gt;</td><td>1 of 2</td>"), std::string::npos) << html;
    EXPECT_NE(html.find("<td>2 of 2</td>"), std::string::npos);
}

TEST(HtmlReport, TransportsAreComparedOnlyWhenTheRunMixedThem) {
    report::SubscriberReport s;
    s.latency_by_transport = {{"tcp", 25, 500, 250.0, 1'000, 2'000, 3'000}};
    EXPECT_EQ(report::render_html(nullptr, &s).find("latency-by-transport"), std::string::npos);
    s.latency_by_transport.push_back({"ws", 25, 500, 250.0, 1'500, 9'000, 12'000});
    const std::string html = report::render_html(nullptr, &s);
    EXPECT_NE(html.find(R"(<table id="latency-by-transport")"), std::string::npos);
    EXPECT_NE(html.find("<td>ws</td><td>25</td><td>500</td><td>250</td>"), std::string::npos)
        << html.substr(html.find("latency-by-transport"), 600);
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

namespace telemetry {
namespace {

report::CommanderReport commander_report(bool verified) {
    LatencyHistogram h;
    h.record(11'000);
    report::CommanderReport c;
    c.sent = 600;
    c.answered = verified ? 600 : 590;
    c.lost = 600 - c.answered;
    c.round_trip_us = c.to_device_us = c.device_work_us = c.from_device_us = report::summarize(h);
    c.timeline =
        to_json(std::vector<CommanderSecond>{{1.0, 100, 100, 99, 1, 99.0, 11'000, 11'000}});
    c.verified = verified;
    if (!verified) c.failed_checks = {"lost 10 > --max-lost-commands 0"};
    return c;
}

TEST(HtmlReport, ACommandersPageHasItsLedgerLatencyAndCharts) {
    const report::CommanderReport c = commander_report(true);
    const std::string html = report::render_html(nullptr, nullptr, &c);
    EXPECT_NE(
        html.find(
            R"(<h1 id="verdict" class="pass">VERIFIED — 600 commands · 600 answered · 0 lost)"),
        std::string::npos)
        << html;
    EXPECT_NE(html.find(R"(id="commands")"), std::string::npos);
    EXPECT_NE(html.find(R"(id="command-latency")"), std::string::npos);
    EXPECT_NE(html.find(R"(id="command-chart")"), std::string::npos);
    EXPECT_NE(html.find("<th>the device's work</th><td>11.0"), std::string::npos) << html;
}

TEST(HtmlReport, CommandsThatFailedFailTheTelemetrysVerdictLine) {
    const report::CommanderReport c = commander_report(false);
    report::PublisherReport p;
    p.published = p.confirmed = 10;
    p.exit_status = 0;
    const std::string html = report::render_html(&p, nullptr, &c);
    EXPECT_NE(
        html.find(
            R"(<h1 id="verdict" class="fail">NOT VERIFIED — 10 sent · 10 confirmed · 600 commands · 590 answered · 10 lost)"),
        std::string::npos)
        << html;
    EXPECT_NE(html.find("<li>lost 10 &gt; --max-lost-commands 0</li>"), std::string::npos);
}

}  // namespace
}  // namespace telemetry

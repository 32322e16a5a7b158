// The report files of a real run: the timeline CSV, and the HTML page rendered in a real
// browser.

#include <signal.h>

#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "pair.hpp"
#include "telemetry/payload.hpp"

namespace harness {
namespace {

TEST(Report, TimelineCsvAndHtmlRenderInHeadlessChromium) {
    Broker broker;
    TempDir dir;
    const auto r =
        run_pair(broker, dir, {"-n", "30000", "-r", "15000", "--csv", (dir / "pub.csv").string()},
                 {"--csv", (dir / "sub.csv").string(), "--html", (dir / "sub.html").string()});
    ASSERT_EQ(r.subscriber_status, 0) << r.subscriber_out;
    EXPECT_GE(r.subscriber.at("timeline").size(), 2u);
    // The publisher's run progress reached the subscriber's progress lines.
    EXPECT_NE(r.subscriber_err.find("publisher sent "), std::string::npos)
        << "the publisher's figures are labelled: " << r.subscriber_err;
    EXPECT_NE(r.subscriber_err.find(" backlog "), std::string::npos) << r.subscriber_err;
    EXPECT_GE(r.publisher.at("timeline").size(), 2u);
    const std::string csv = read_file(dir / "sub.csv");
    EXPECT_EQ(csv.rfind("t_s,received,unique,missing", 0), 0u) << csv;
    EXPECT_GE(std::count(csv.begin(), csv.end(), '\n'), 3);
    EXPECT_EQ(read_file(dir / "pub.csv").rfind("t_s,published,confirmed", 0), 0u);
    EXPECT_NE(read_file(dir / "sub.html").find("id=\"verdict\""), std::string::npos);

    const auto merged =
        run({MQTT_REPORT_PATH, "--publisher", (dir / "pub.json").string(), "--subscriber",
             (dir / "sub.json").string(), "-o", (dir / "report.html").string()},
            dir.path());
    ASSERT_EQ(merged.status, 0) << merged.err;

    ASSERT_TRUE(fs::exists("/usr/bin/chromium")) << "chromium is not installed: run scripts/deps";
    const std::vector<std::string> chromium{
        "/usr/bin/chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        "--user-data-dir=" + (dir / "chromium-profile").string()};
    auto dump = chromium;
    dump.push_back("--dump-dom");
    dump.push_back("file://" + (dir / "report.html").string());
    const auto dom = run(dump, dir.path(), 120s);
    ASSERT_EQ(dom.status, 0) << dom.err;
    EXPECT_NE(dom.out.find("<h1 id=\"verdict\" class=\"pass\">VERIFIED — 30,000 sent · 30,000 "
                           "confirmed · 30,000 received · 0 "
                           "missing · 0 duplicates · p99"),
              std::string::npos)
        << dom.out.substr(0, 2000);
    for (const char* chart : {"throughput-chart", "latency-chart", "latency-histogram"})
        EXPECT_NE(dom.out.find(chart), std::string::npos) << chart;
    EXPECT_GE(std::count(dom.out.begin(), dom.out.end(), '<'), 50);
    EXPECT_NE(dom.out.find("<polyline"), std::string::npos);
    // The head: what ran, when, where and how; and no section without content.
    for (const char* item :
         {"<dt>Run</dt><dd>", "<dt>Started</dt>", "<dt>Host</dt>", "<dt>Commands</dt><dd><code>"})
        EXPECT_NE(dom.out.find(item), std::string::npos) << item;
    EXPECT_EQ(dom.out.find("id=\"device-status\""), std::string::npos)
        << "no device published a status in this run";

    auto shot = chromium;
    shot.push_back("--screenshot=" + (dir / "report.png").string());
    shot.push_back("--window-size=900,1600");
    shot.push_back("file://" + (dir / "report.html").string());
    ASSERT_EQ(run(shot, dir.path(), 120s).status, 0);
    EXPECT_GT(fs::file_size(dir / "report.png"), 20'000u) << "the page rendered to an image";
}

}  // namespace
}  // namespace harness

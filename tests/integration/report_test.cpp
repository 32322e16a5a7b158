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

TEST(Report, IndependentSubscribersAreAFanOutAndAStalledOneIsNamedWithItsLoss) {
    // Three consumers of the same run; the broker keeps 100 messages for one that stalls, so
    // the second loses while the others get everything. Merged as one ledger the others' copies
    // would hide its loss; as a fan-out the run fails and names it.
    // 2,000 kept per consumer: a running one may fall 0.6 s behind on a busy machine without
    // loss (at 100 a running consumer once lost 2); the stalled one falls 12,000 behind.
    Broker broker({{{"max_queued_messages", "2000"}, {"max_inflight_messages", "20"}}, {}});
    TempDir d1, d2, d3, dir;
    std::vector<std::unique_ptr<ChildProcess>> subscribers;
    int n = 0;
    for (const TempDir* d : {&d1, &d2, &d3})
        subscribers.push_back(start_subscriber(broker.port_str(), *d,
                                               {"-i", "consumer-" + std::to_string(++n),
                                                "--idle-timeout", "3", "--receive-maximum", "20"}));
    // Paced so that the running consumers keep up; on a busy machine the window of 20 can hold
    // the publisher behind its schedule, which is not this test's subject.
    ChildProcess publisher(
        {publisher_path(), "-p", broker.port_str(), "-n", "20000", "-r", "3000",
         "--max-schedule-lag-ms", "60000", "--report", (dir / "pub.json").string()},
        dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_count(d2 / "sub.err", "received ", 2000, 20s));
    subscribers[1]->signal(SIGSTOP);
    ASSERT_TRUE(wait_for_count(dir / "pub.err", "confirmed ", 14000, 60s))
        << read_file(dir / "pub.err");
    subscribers[1]->signal(SIGCONT);
    ASSERT_EQ(publisher.wait(120s), 0) << read_file(dir / "pub.err");
    EXPECT_EQ(subscribers[0]->wait(120s), 0) << read_file(d1 / "sub.out");
    EXPECT_EQ(subscribers[1]->wait(120s), 1) << read_file(d2 / "sub.out");
    EXPECT_EQ(subscribers[2]->wait(120s), 0) << read_file(d3 / "sub.out");

    const auto merged =
        run({MQTT_REPORT_PATH, "--publisher", (dir / "pub.json").string(), "--subscriber",
             (d1 / "sub.json").string(), "--subscriber", (d2 / "sub.json").string(), "--subscriber",
             (d3 / "sub.json").string(), "--json", (dir / "merged.json").string()},
            dir.path());
    EXPECT_EQ(merged.status, 1) << merged.out << merged.err;
    EXPECT_NE(merged.out.find("fan-out: 3 consumers (3 independent, 0 share groups), 2 of 3 "
                              "complete"),
              std::string::npos)
        << merged.out;
    const std::uint64_t lost = read_json(d2 / "sub.json").at("missing");
    ASSERT_GT(lost, 0u);
    EXPECT_NE(merged.out.find("failed: " + (d2 / "sub.json").string() + " (independent): missing " +
                              std::to_string(lost)),
              std::string::npos)
        << merged.out;
    const auto doc = read_json(dir / "merged.json").at("subscriber");
    EXPECT_EQ(doc.at("missing"), lost);
    EXPECT_EQ(doc.at("unique"), 60000 - lost);
    EXPECT_NEAR(doc.at("amplification").get<double>(),
                (60000.0 - static_cast<double>(lost)) / 20000.0, 1e-9);
}

}  // namespace
}  // namespace harness

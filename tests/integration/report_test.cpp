// Knowing every message: corrupt and malformed payloads forged through a real broker are
// counted exactly; latency is end to end and survives a stalled broker; thresholds decide the
// verdict; the HTML report renders in a real browser.

#include <signal.h>

#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "pair.hpp"
#include "telemetry/payload.hpp"

namespace harness {
namespace {

std::string valid_payload(std::uint64_t seq) {
    std::string out;
    telemetry::encode_reading({"forged", "dev-1", seq, 1764102213123456, 20.0, 50.0, 1000.0, 90.0},
                              out);
    return out;
}

void mosquitto_pub(const Broker& broker, const TempDir& dir, const std::string& payload) {
    // An independent client: these messages do not come from our code.
    ASSERT_EQ(run({"mosquitto_pub", "-p", broker.port_str(), "-q", "1", "-t",
                   "sensors/dev-1/telemetry", "-m", payload},
                  dir.path())
                  .status,
              0);
}

TEST(Integrity, CorruptAndMalformedPayloadsAreCountedExactlyAndNeverDelivered) {
    Broker broker;
    TempDir dir;
    const auto sub = start_subscriber(broker.port_str(), dir, {"-C", "3", "--idle-timeout", "5"});

    std::string corrupt_seq = valid_payload(4);  // damaged content, original checksum
    corrupt_seq.replace(corrupt_seq.find("\"seq\":4"), 7, "\"seq\":5");
    std::string corrupt_value = valid_payload(6);
    corrupt_value.replace(corrupt_value.find("\"temp\":20.00"), 12, "\"temp\":29.00");
    std::string no_seq =
        "{\"v\":1,\"run\":\"forged\",\"dev\":\"dev-1\",\"ts\":5,\"temp\":1,\"hum\":1,\"pres\":1,"
        "\"batt\":1";
    no_seq += fmt::format(R"(,"crc":"{:08x}"}})", telemetry::payload_crc(no_seq));
    for (const std::string& p : {corrupt_seq, corrupt_value, std::string("not json"), no_seq,
                                 valid_payload(1), valid_payload(2), valid_payload(3)})
        mosquitto_pub(broker, dir, p);

    EXPECT_EQ(sub->wait(60s), 1) << read_file(dir / "sub.out");
    const auto rep = read_json(dir / "sub.json");
    EXPECT_EQ(rep.at("corrupt"), 2);
    EXPECT_EQ(rep.at("malformed"), 2);
    EXPECT_EQ(rep.at("received"), 3);
    EXPECT_EQ(rep.at("unique"), 3);
    EXPECT_EQ(rep.at("corrupt_examples").size(), 2u);
    EXPECT_NE(rep.at("corrupt_examples")[0].get<std::string>().find("checksum mismatch"),
              std::string::npos);
    EXPECT_NE(read_file(dir / "sub.out").find("failed: corrupt 2 > 0"), std::string::npos);
}

// Messages whose end-to-end latency was at least `at_least_us`, from the report's buckets.
std::uint64_t messages_slower_than(const nlohmann::json& latency, std::int64_t at_least_us) {
    std::uint64_t n = 0;
    for (const auto& b : latency.at("buckets"))  // [from_us, to_us, count]
        if (b[0].get<std::int64_t>() >= at_least_us) n += b[2].get<std::uint64_t>();
    return n;
}

TEST(Latency, BrokerStallShowsAsLatencyInsteadOfALowerRate) {
    // With --rate the publisher stamps each message with its scheduled send time: a broker
    // that stalls for a second shows up as latency for every message scheduled during the stall
    // (no coordinated omission). The window of 20 is the point: only 20 messages can wait
    // out the stall in flight, while ~2,000 are scheduled during it and sent late. Stamped with
    // the real send time, those would look fast and only about 20 would be slow.
    Broker broker;
    TempDir dir;
    const auto sub = start_subscriber(broker.port_str(), dir, {"--idle-timeout", "10"});
    ChildProcess pub({publisher_path(), "-p", broker.port_str(), "-n", "8000", "-r", "2000", "-w",
                      "20", "--report", (dir / "pub.json").string()},
                     dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_count(dir / "sub.err", "received ", 2000, 20s));
    ::kill(broker.pid(), SIGSTOP);
    std::this_thread::sleep_for(1s);
    ::kill(broker.pid(), SIGCONT);
    ASSERT_EQ(pub.wait(60s), 0) << read_file(dir / "pub.err");
    ASSERT_EQ(sub->wait(60s), 0) << read_file(dir / "sub.out");
    const auto latency = read_json(dir / "sub.json").at("latency_us");
    EXPECT_EQ(latency.at("count"), 8000);
    EXPECT_GE(latency.at("max").get<std::int64_t>(), 900'000) << latency.dump();
    // A second at 2,000 msg/s: most of those messages waited 200 ms or more.
    EXPECT_GE(messages_slower_than(latency, 200'000), 1000u) << latency.dump();
}

TEST(Thresholds, P99AboveTheLimitFailsAndTheReportSaysWhich) {
    Broker broker;
    TempDir dir;
    const auto r = run_pair(broker, dir, {"-n", "2000"}, {"--max-p99-ms", "0.001"});
    EXPECT_EQ(r.publisher_status, 0);
    EXPECT_EQ(r.subscriber_status, 1);
    EXPECT_EQ(r.subscriber.at("missing"), 0);
    ASSERT_EQ(r.subscriber.at("failed_checks").size(), 1u);
    EXPECT_NE(r.subscriber.at("failed_checks")[0].get<std::string>().find("--max-p99-ms"),
              std::string::npos);
    EXPECT_FALSE(r.subscriber.at("verified").get<bool>());
}

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

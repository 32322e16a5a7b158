// --metrics-port end to end: both programs serve /metrics while a run goes on; what they serve
// passes `promtool check metrics` (Debian prometheus), moves forward between scrapes, ends equal
// to the run's report, and holds every metric the shipped Grafana dashboard queries.

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "pair.hpp"

namespace harness {
namespace {

// One GET over a blocking loopback socket; the whole answer (status line, headers, body).
std::string http_get(std::uint16_t port, const std::string& path) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const timeval limit{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    std::string answer;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
        const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
        char buffer[8192];
        for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;)
            answer.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return answer;
}

std::string body_of(const std::string& answer) {
    const auto at = answer.find("\r\n\r\n");
    return at == std::string::npos ? "" : answer.substr(at + 4);
}

// The value of an unlabelled sample; -1 when absent.
double sample(const std::string& text, const std::string& name) {
    const std::regex line("(^|\n)" + name + " ([^\n]+)");
    std::smatch m;
    return std::regex_search(text, m, line) ? std::stod(m[2]) : -1;
}

std::set<std::string> families(const std::string& text) {
    std::set<std::string> names;
    const std::regex type("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) ");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), type);
         it != std::sregex_iterator(); ++it)
        names.insert((*it)[1]);
    return names;
}

// `promtool check metrics` on the text: its status and what it said.
RunResult promtool_check(const TempDir& dir, const std::string& text, const std::string& name) {
    const fs::path file = dir / (name + ".prom");
    std::ofstream(file) << text;
    return run({"/bin/sh", "-c", "promtool check metrics < '" + file.string() + "'"}, dir.path(),
               60s);
}

class Metrics : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_EQ(::access("/usr/bin/promtool", X_OK), 0)
            << "promtool is not installed (Debian prometheus): run scripts/deps --test";
    }
};

TEST_F(Metrics, BothProgramsServeValidMetricsMidRunThatEndAtTheReport) {
    Broker broker;
    TempDir dir;
    const std::uint16_t pub_port = free_port();
    const std::uint16_t sub_port = free_port();
    auto sub = start_subscriber(broker.port_str(), dir,
                                {"--metrics-port", "127.0.0.1:" + std::to_string(sub_port)});
    ChildProcess pub(
        {publisher_path(), "-p", broker.port_str(), "-n", "12000", "-r", "3000", "--report",
         (dir / "pub.json").string(), "--metrics-port", "127.0.0.1:" + std::to_string(pub_port)},
        dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_count(dir / "sub.err", "received ", 2000, 60s))
        << read_file(dir / "sub.err");

    const std::string first_pub = http_get(pub_port, "/metrics");
    const std::string first_sub = http_get(sub_port, "/metrics");
    std::this_thread::sleep_for(1s);
    const std::string pub_text = body_of(http_get(pub_port, "/metrics"));
    const std::string sub_text = body_of(http_get(sub_port, "/metrics"));
    ASSERT_EQ(first_pub.rfind("HTTP/1.1 200 OK", 0), 0U) << first_pub;
    EXPECT_EQ(http_get(sub_port, "/readyz").rfind("HTTP/1.1 200 OK", 0), 0U)
        << "subscribed: ready for the publishers";
    ASSERT_EQ(first_sub.rfind("HTTP/1.1 200 OK", 0), 0U) << first_sub;
    EXPECT_NE(first_pub.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);

    for (const auto& [name, text] : {std::pair{"publisher", pub_text}, {"subscriber", sub_text}}) {
        const RunResult check = promtool_check(dir, text, name);
        EXPECT_EQ(check.status, 0) << name << ": " << check.out << check.err << "\n" << text;
    }
    // Mid-run, and moving forward.
    const double published = sample(pub_text, "mqtt_publisher_published_total");
    EXPECT_GT(published, sample(body_of(first_pub), "mqtt_publisher_published_total"));
    EXPECT_GT(published, 0);
    EXPECT_LT(published, 12000);
    const double received = sample(sub_text, "mqtt_subscriber_received_total");
    EXPECT_GT(received, sample(body_of(first_sub), "mqtt_subscriber_received_total"));
    EXPECT_LT(received, 12000);
    EXPECT_EQ(sample(sub_text, "mqtt_subscriber_duplicates_total"), 0);
    EXPECT_EQ(sample(sub_text, "mqtt_subscriber_corrupt_total"), 0);
    EXPECT_EQ(sample(pub_text, "mqtt_publisher_connected"), 1);
    EXPECT_EQ(sample(pub_text, "mqtt_publisher_target"), 12000);
    // A histogram's +Inf bucket is its count: every confirmation was timed.
    EXPECT_EQ(sample(pub_text, "mqtt_publisher_puback_latency_seconds_bucket\\{le=\"\\+Inf\"\\}"),
              sample(pub_text, "mqtt_publisher_puback_latency_seconds_count"));
    EXPECT_EQ(sample(sub_text, "mqtt_subscriber_latency_seconds_count"),
              sample(sub_text, "mqtt_subscriber_unique_total"));
    EXPECT_GT(sample(pub_text, "process_resident_memory_bytes"), 0);

    ASSERT_EQ(pub.wait(120s), 0) << read_file(dir / "pub.err");
    ASSERT_EQ(sub->wait(120s), 0) << read_file(dir / "sub.err");
    EXPECT_EQ(read_json(dir / "pub.json").at("confirmed"), 12000);
    EXPECT_EQ(read_json(dir / "sub.json").at("unique"), 12000);
}

TEST_F(Metrics, TheGrafanaDashboardQueriesOnlyMetricsTheProgramsServe) {
    Broker broker;
    TempDir dir;
    const std::uint16_t pub_port = free_port();
    const std::uint16_t sub_port = free_port();
    auto sub = start_subscriber(broker.port_str(), dir,
                                {"--metrics-port", "127.0.0.1:" + std::to_string(sub_port)});
    const std::uint16_t commander_port = free_port();
    // The publisher's devices also take commands, from a commander serving its metrics too.
    ChildProcess pub(
        {publisher_path(), "-p", broker.port_str(), "-n", "4000", "-r", "2000", "--commands",
         "--command-linger", "3", "--metrics-port", "127.0.0.1:" + std::to_string(pub_port)},
        dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_count(dir / "sub.err", "received ", 1000, 60s));
    ChildProcess commander({commander_path(), "-p", broker.port_str(), "-n", "20", "-r", "100",
                            "--metrics-port", "127.0.0.1:" + std::to_string(commander_port)},
                           dir / "c.out", dir / "c.err");
    ASSERT_TRUE(wait_for_text(dir / "c.err", "connected to", 30s)) << read_file(dir / "c.err");
    std::set<std::string> served = families(body_of(http_get(pub_port, "/metrics")));
    served.merge(families(body_of(http_get(sub_port, "/metrics"))));
    served.merge(families(body_of(http_get(commander_port, "/metrics"))));
    ASSERT_EQ(commander.wait(60s), 0) << read_file(dir / "c.out");
    ASSERT_EQ(pub.wait(60s), 0);
    ASSERT_EQ(sub->wait(60s), 0);

    const nlohmann::json dashboard = read_json(project_dir() / "dashboards/mqtt-telemetry.json");
    std::set<std::string> queried;
    const std::regex metric("\\b((mqtt_publisher|mqtt_subscriber|mqtt_commander|process)_[a-z_]+)");
    for (const auto& panel : dashboard.at("panels"))
        for (const auto& target : panel.at("targets")) {
            const std::string expr = target.at("expr");
            for (auto it = std::sregex_iterator(expr.begin(), expr.end(), metric);
                 it != std::sregex_iterator(); ++it)
                queried.insert(std::regex_replace(std::string((*it)[1]),
                                                  std::regex("_(bucket|sum|count)$"), ""));
        }
    ASSERT_GE(queried.size(), 10U);
    for (const std::string& name : queried)
        EXPECT_TRUE(served.count(name)) << "the dashboard queries " << name << ", never served";
    // And the example scrape configuration is one Prometheus accepts.
    const RunResult config =
        run({"promtool", "check", "config", (project_dir() / "config/prometheus.yml").string()},
            dir.path(), 60s);
    EXPECT_EQ(config.status, 0) << config.out << config.err;
}

TEST_F(Metrics, TheLibmosquittoEngineServesThemToo) {
    Broker broker;
    TempDir dir;
    const std::uint16_t port = free_port();
    ChildProcess pub(
        {publisher_path(), "-p", broker.port_str(), "-n", "6000", "-r", "2000", "--client",
         "libmosquitto", "--metrics-port", "127.0.0.1:" + std::to_string(port)},
        dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_count(dir / "pub.err", "sent ", 1000, 60s)) << read_file(dir / "pub.err");
    const std::string text = body_of(http_get(port, "/metrics"));
    EXPECT_GT(sample(text, "mqtt_publisher_confirmed_total"), 0) << text;
    EXPECT_EQ(promtool_check(dir, text, "libmosquitto").status, 0);
    EXPECT_EQ(pub.wait(60s), 0) << read_file(dir / "pub.err");
}

TEST_F(Metrics, TheCommanderServesItsLedgerMidRun) {
    Broker broker;
    TempDir dir;
    const std::uint16_t port = free_port();
    ChildProcess devices({publisher_path(), "-p", broker.port_str(), "-d", "5", "-r", "10",
                          "--duration", "8", "--connections", "per-device", "--commands"},
                         dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_text(dir / "pub.err", "commands: each of", 30s));
    ChildProcess commander(
        {commander_path(), "-p", broker.port_str(), "-d", "5", "-n", "400", "-r", "100", "--report",
         (dir / "c.json").string(), "--metrics-port", "127.0.0.1:" + std::to_string(port)},
        dir / "c.out", dir / "c.err");
    ASSERT_TRUE(wait_for_text(dir / "c.err", "connected to", 30s)) << read_file(dir / "c.err");
    std::this_thread::sleep_for(1500ms);
    const std::string text = body_of(http_get(port, "/metrics"));
    const RunResult check = promtool_check(dir, text, "commander");
    EXPECT_EQ(check.status, 0) << check.out << check.err << "\n" << text;
    const double sent = sample(text, "mqtt_commander_sent_total");
    EXPECT_GT(sent, 0);
    EXPECT_LT(sent, 400) << "mid-run";
    EXPECT_EQ(sample(text, "mqtt_commander_round_trip_seconds_count"),
              sample(text, "mqtt_commander_answered_total"));
    EXPECT_EQ(sample(text, "mqtt_commander_connected"), 1);
    ASSERT_EQ(commander.wait(60s), 0) << read_file(dir / "c.out");
    EXPECT_EQ(read_json(dir / "c.json").at("answered"), 400);
    ASSERT_EQ(devices.wait(60s), 0);
}

TEST(MetricsPort, ThatCannotBeUsedIsAUsageErrorNamingIt) {
    Broker broker;
    TempDir dir;
    const RunResult r = run({publisher_path(), "-p", broker.port_str(), "-n", "10",
                             "--metrics-port", "127.0.0.1:" + broker.port_str()},
                            dir.path(), 30s);
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("--metrics-port: cannot listen on 127.0.0.1:" + broker.port_str()),
              std::string::npos)
        << r.err;
    const RunResult bad =
        run({subscriber_path(), "--metrics-port", "localhost:80"}, dir.path(), 30s);
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("--metrics-port"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace harness

// The subscriber's thresholds end to end: --max-missing, --max-duplicates, --max-p99-ms.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "pair.hpp"
#include "telemetry/payload.hpp"
#include "telemetry/run_summary.hpp"

namespace harness {
namespace {

// Forged telemetry from an independent client (mosquitto_pub), with valid checksums.
std::string forged_reading(std::uint64_t seq) {
    telemetry::Reading r;
    r.run = "forged";
    r.device = "d1";
    r.seq = seq;
    r.ts_us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    r.temperature_c = 20;
    r.humidity_pct = 50;
    r.pressure_hpa = 1000;
    r.battery_pct = 80;
    std::string out;
    telemetry::encode_reading(r, out);
    return out;
}

struct Forged {
    int status;
    nlohmann::json report;
    std::string out;
};

// Sends readings with these sequence numbers and then a summary ending at `last`.
Forged verify_forged(const std::vector<std::uint64_t>& seqs, std::uint64_t last,
                     const std::vector<std::string>& sub_args) {
    Broker broker;
    TempDir dir;
    std::vector<std::string> args{"--idle-timeout", "2"};
    args.insert(args.end(), sub_args.begin(), sub_args.end());
    const auto sub = start_subscriber(broker.port_str(), dir, args);
    const auto send = [&](const std::string& topic, const std::string& payload) {
        EXPECT_EQ(
            run({"mosquitto_pub", "-p", broker.port_str(), "-q", "1", "-t", topic, "-m", payload},
                dir.path())
                .status,
            0);
    };
    for (std::uint64_t seq : seqs) send("sensors/d1/telemetry", forged_reading(seq));
    send("telemetry/run-summary",
         telemetry::encode_run_summary(
             {"forged", 1, last, last, false, {{"d1", last, last, {}, {}}}}));
    const auto status = sub->wait(60s);
    return {status.value_or(-1), read_json(dir / "sub.json"), read_file(dir / "sub.out")};
}

TEST(Thresholds, MaxMissingToleratesThatManyMissingEndToEnd) {
    const auto strict = verify_forged({1, 2, 4}, 4, {});
    EXPECT_EQ(strict.status, 1);
    EXPECT_EQ(strict.report.at("missing"), 1);
    const auto tolerant = verify_forged({1, 2, 4}, 4, {"--max-missing", "1"});
    EXPECT_EQ(tolerant.status, 0) << tolerant.out;
    EXPECT_EQ(tolerant.report.at("verified"), true);
}

TEST(Thresholds, MaxDuplicatesFailsAboveItEndToEnd) {
    const auto legal = verify_forged({1, 2, 2, 3}, 3, {});
    EXPECT_EQ(legal.status, 0) << "duplicates are legal at QoS 1 by default: " << legal.out;
    EXPECT_EQ(legal.report.at("duplicates"), 1);
    const auto strict = verify_forged({1, 2, 2, 3}, 3, {"--max-duplicates", "0"});
    EXPECT_EQ(strict.status, 1);
    EXPECT_EQ(strict.report.at("failed_checks"),
              nlohmann::json::array({"duplicates 1 > --max-duplicates 0"}));
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
}  // namespace
}  // namespace harness

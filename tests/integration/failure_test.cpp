// Bad input and unreachable or refusing brokers: a one-line error naming the problem and a
// documented exit status, never a hang or a silent exit.

#include <fstream>

#include <gtest/gtest.h>

#include "harness.hpp"

namespace harness {
namespace {

int count_lines(const std::string& s) {
    return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

TEST(Failure, BadFlagIsUsageErrorWithOneLine) {
    TempDir dir;
    for (const std::string& program : {publisher_path(), subscriber_path()}) {
        const auto r = run({program, "--qos", "3", "--port", "1"}, dir.path());
        EXPECT_EQ(r.status, 2) << program;
        EXPECT_EQ(count_lines(r.err), 1) << r.err;
        EXPECT_NE(r.err.find("error:"), std::string::npos) << r.err;
    }
}

TEST(Failure, HelpListsExitStatusesAndExitsZero) {
    TempDir dir;
    for (const std::string& program : {publisher_path(), subscriber_path()}) {
        const auto r = run({program, "--help"}, dir.path());
        EXPECT_EQ(r.status, 0);
        EXPECT_NE(r.out.find("Exit status"), std::string::npos);
        EXPECT_NE(r.out.find("--host"), std::string::npos);
    }
}

TEST(Failure, UnreachableBrokerIsExitThreeNamingHostPortAndReason) {
    TempDir dir;
    const std::string port = std::to_string(free_port());
    for (const std::string& program : {publisher_path(), subscriber_path()}) {
        // One report file per program, so one program's file cannot stand in for the other's.
        const fs::path report = dir / (fs::path(program).filename().string() + ".json");
        const auto r = run({program, "-p", port, "--report", report.string()}, dir.path(), 30s);
        EXPECT_EQ(r.status, 3) << program << ": " << r.err;
        EXPECT_NE(r.err.find("127.0.0.1:" + port), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("refused"), std::string::npos) << r.err;
        const auto written = read_json(report);
        EXPECT_EQ(written.at("exit_status"), 3) << program;
        EXPECT_EQ(written.at("end_reason"), "broker-error") << program;
        EXPECT_EQ(written.at("program"), fs::path(program).filename().string());
    }
}

TEST(Failure, UnresolvableHostIsExitThree) {
    TempDir dir;
    const auto r =
        run({publisher_path(), "-h", "no-such-host.invalid", "-p", "1883"}, dir.path(), 60s);
    EXPECT_EQ(r.status, 3) << r.err;
    EXPECT_NE(r.err.find("no-such-host.invalid"), std::string::npos) << r.err;
}

class CredentialsBroker : public testing::Test {
  protected:
    static Broker make_broker(const TempDir& dir) {
        const fs::path pw = dir / "passwords";
        EXPECT_EQ(run({"mosquitto_passwd", "-b", "-c", pw.string(), "sensor", "right"}, dir.path())
                      .status,
                  0);
        return Broker({{{"allow_anonymous", "false"}}, {"password_file " + pw.string()}});
    }
};

TEST_F(CredentialsBroker, WrongPasswordIsExitThreeNamingTheUser) {
    TempDir dir;
    Broker broker = make_broker(dir);
    for (const std::string& program : {publisher_path(), subscriber_path()}) {
        const auto r =
            run({program, "-p", broker.port_str(), "-u", "sensor", "-P", "wrong"}, dir.path(), 30s);
        EXPECT_EQ(r.status, 3) << r.err;
        // Mosquitto answers a wrong password with "not authorised" (5), not "bad user name or
        // password" (4), under MQTT 3.1.1.
        EXPECT_NE(r.err.find("user 'sensor'"), std::string::npos) << r.err;
    }
}

TEST_F(CredentialsBroker, AnonymousClientIsNotAuthorised) {
    TempDir dir;
    Broker broker = make_broker(dir);
    const auto r = run({publisher_path(), "-p", broker.port_str(), "-n", "10"}, dir.path(), 30s);
    EXPECT_EQ(r.status, 3) << r.err;
    EXPECT_NE(r.err.find("not authorised: anonymous clients refused"), std::string::npos) << r.err;
}

TEST_F(CredentialsBroker, RightPasswordPublishes) {
    TempDir dir;
    Broker broker = make_broker(dir);
    const auto r =
        run({publisher_path(), "-p", broker.port_str(), "-u", "sensor", "-P", "right", "-n", "100"},
            dir.path(), 60s);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("confirmed 100 "), std::string::npos) << r.out;
}

TEST(Failure, UnwritableReportIsUsageError) {
    TempDir dir;
    const auto r = run({publisher_path(), "--report", "/nonexistent-dir/r.json"}, dir.path());
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("/nonexistent-dir/r.json"), std::string::npos);
}

}  // namespace
}  // namespace harness

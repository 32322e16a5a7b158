// A locked-down broker, as production runs one: Mosquitto with a password file
// (mosquitto_passwd) and an ACL, refused subscriptions, a connection limit. Every refusal has its
// own line and exit status. (Its TLS listener: tls_test.cpp.)

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>

#include <gtest/gtest.h>

#include "harness.hpp"
#include "pair.hpp"

namespace harness {
namespace {

// Mosquitto with a password file and an ACL: user "pub" may write the telemetry of sensor-0001
// and sensor-0002 and the control topics; user "sub" may read everything it needs.
class Locked : public testing::Test {
  protected:
    Locked() : broker_(settings(dir_)) {}
    static BrokerSettings settings(const TempDir& dir) {
        const fs::path pw = dir / "passwords";
        for (const auto& [user, password] :
             {std::pair{"pub", "pub-secret-7"}, std::pair{"sub", "sub-secret-9"}}) {
            std::vector<std::string> cmd{"mosquitto_passwd", "-b", pw.string(), user, password};
            if (!fs::exists(pw)) cmd.insert(cmd.begin() + 2, "-c");
            EXPECT_EQ(run(cmd, dir.path()).status, 0) << "mosquitto_passwd failed";
        }
        std::ofstream(dir / "acl") << "user pub\n"
                                      "topic write sensors/sensor-0001/telemetry\n"
                                      "topic write sensors/sensor-0002/telemetry\n"
                                      "topic write telemetry/#\n"
                                      "user sub\n"
                                      "topic read sensors/#\n"
                                      "topic read telemetry/#\n";
        return {{{"allow_anonymous", "false"}},
                {"password_file " + pw.string(), "acl_file " + (dir / "acl").string()}};
    }

    TempDir dir_;
    Broker broker_;
};

TEST_F(Locked, WrongPasswordIsOneRefusalNamingTheUserWithoutRetrying) {
    for (const std::string version : {"5", "311"}) {
        const auto r = run({publisher_path(), "-p", broker_.port_str(), "-V", version, "-u", "pub",
                            "-P", "not-the-password"},
                           dir_.path(), 30s);
        EXPECT_EQ(r.status, 3) << r.err;
        EXPECT_NE(r.err.find("user 'pub'"), std::string::npos) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
    // One connection per attempt above: no retry loop.
    const std::string log = read_file(broker_.dir() / "mosquitto.log");
    std::size_t connections = 0;
    for (auto at = log.find("New connection from"); at != std::string::npos;
         at = log.find("New connection from", at + 1))
        ++connections;
    EXPECT_EQ(connections, 2u) << log;
}

TEST_F(Locked, PasswordFromAFileOrTheEnvironmentNeverShowsInPsOrOutput) {
    const std::string secret = "pub-secret-7";
    std::ofstream(dir_ / "pub.password") << secret << "\n";
    // The subscriber takes its password from the environment, the publisher from a file.
    ASSERT_EQ(::setenv("MQTT_PASSWORD", "sub-secret-9", 1), 0);
    const auto subscriber = start_subscriber(broker_.port_str(), dir_, {"-u", "sub"});
    ::unsetenv("MQTT_PASSWORD");
    ChildProcess publisher({publisher_path(), "-p", broker_.port_str(), "-u", "pub",
                            "--password-file", (dir_ / "pub.password").string(), "-n", "200", "-d",
                            "2", "-r", "100", "--report", (dir_ / "pub.json").string()},
                           dir_ / "pub.out", dir_ / "pub.err");
    // What ps shows: the command lines of both running programs (once exec'd and connected).
    ASSERT_TRUE(wait_for_text(dir_ / "pub.err", "connected", 20s)) << read_file(dir_ / "pub.err");
    std::string command_lines;
    for (const pid_t pid : {publisher.pid(), subscriber->pid()})
        command_lines += read_file(fs::path("/proc") / std::to_string(pid) / "cmdline");
    EXPECT_NE(command_lines.find("--password-file"), std::string::npos);
    ASSERT_EQ(publisher.wait(60s), 0) << read_file(dir_ / "pub.err");
    ASSERT_EQ(subscriber->wait(60s), 0) << read_file(dir_ / "sub.out");
    for (const std::string name :
         {"pub.out", "pub.err", "pub.json", "sub.out", "sub.err", "sub.json"}) {
        const std::string text = read_file(dir_ / name);
        EXPECT_EQ(text.find(secret), std::string::npos) << name;
        EXPECT_EQ(text.find("sub-secret-9"), std::string::npos) << name;
    }
    EXPECT_EQ(command_lines.find(secret), std::string::npos) << command_lines;
    EXPECT_EQ(command_lines.find("sub-secret-9"), std::string::npos) << command_lines;
    EXPECT_EQ(read_json(dir_ / "sub.json").value("unique", 0), 200);
}

TEST_F(Locked, Mqtt5RefusedPublishesAreRejectedByTopicAndFailTheRun) {
    // Three devices; the ACL lets only the first two write: PUBACK 0x87 for the third's.
    const auto r =
        run_pair(broker_, dir_, {"-u", "pub", "-P", "pub-secret-7", "-n", "300", "-d", "3"},
                 {"-u", "sub", "-P", "sub-secret-9", "--idle-timeout", "3"});
    EXPECT_EQ(r.publisher_status, 1) << r.publisher_err;
    EXPECT_EQ(r.publisher.value("rejected", 0), 100);
    EXPECT_EQ(r.publisher.value("confirmed", 0), 200);
    EXPECT_EQ(r.publisher.at("rejected_by_topic"),
              (nlohmann::json{{"sensors/sensor-0003/telemetry", 100}}));
    EXPECT_NE(r.publisher_err.find("0x87"), std::string::npos) << r.publisher_err;
    EXPECT_NE(r.publisher_err.find("sensors/sensor-0003/telemetry (100)"), std::string::npos)
        << r.publisher_err;
    // The subscriber sees the same 100 as missing.
    EXPECT_EQ(r.subscriber_status, 1) << r.subscriber_out;
    EXPECT_EQ(r.subscriber.value("missing", 0), 100);
}

TEST_F(Locked, Mqtt311RefusedPublishesAreConfirmedYetTheLedgerShowsTheLoss) {
    // MQTT 3.1.1 has no reason code in PUBACK: Mosquitto acknowledges the denied publish and
    // drops it. Only the consumer's ledger can tell.
    const auto r = run_pair(
        broker_, dir_, {"-u", "pub", "-P", "pub-secret-7", "-n", "300", "-d", "3", "-V", "311"},
        {"-u", "sub", "-P", "sub-secret-9", "--idle-timeout", "3"});
    EXPECT_EQ(r.publisher_status, 0) << r.publisher_err;
    EXPECT_EQ(r.publisher.value("confirmed", 0), 300);
    EXPECT_EQ(r.publisher.value("rejected", 1), 0);
    EXPECT_EQ(r.subscriber_status, 1) << r.subscriber_out;
    EXPECT_EQ(r.subscriber.value("missing", 0), 100);
    EXPECT_NE(r.subscriber_out.find("NOT VERIFIED"), std::string::npos) << r.subscriber_out;
}

// Mosquitto's acl_file grants every subscription and filters at delivery; its dynamic-security
// plugin refuses them in the SUBACK, which is what the subscriber must tell apart.
TEST(Authorisation, RefusedSubscriptionEndsTheSubscriberBeforeAnyPublisherStarts) {
    const fs::path plugin = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so";
    ASSERT_TRUE(fs::exists(plugin)) << plugin << " (Debian's mosquitto package) is missing";
    TempDir dir;
    std::ofstream(dir / "dynsec.json") << R"({
      "defaultACLAccess": {"publishClientSend": true, "publishClientReceive": true,
                           "subscribe": false, "unsubscribe": true},
      "clients": [], "anonymousGroup": "anonymous",
      "groups": [{"groupname": "anonymous", "roles": [{"rolename": "reader"}]}],
      "roles": [{"rolename": "reader", "acls": [
        {"acltype": "subscribePattern", "topic": "telemetry/#", "allow": true}]}]})";
    Broker broker({{},
                   {"plugin " + plugin.string(),
                    "plugin_opt_config_file " + (dir / "dynsec.json").string()}});
    for (const std::string version : {"5", "311"}) {
        // The default filter, sensors/+/telemetry, is refused; the control topic is allowed.
        const auto r =
            run({subscriber_path(), "-p", broker.port_str(), "-V", version}, dir.path(), 30s);
        EXPECT_EQ(r.status, 3) << r.err;
        EXPECT_NE(r.err.find("sensors/+/telemetry"), std::string::npos) << r.err;
        EXPECT_EQ(r.err.find("(ready)"), std::string::npos) << r.err;
    }
}

// Mosquitto at max_connections closes a new connection without a CONNACK or a reason: the
// line must not blame TLS alone [issue 29].
TEST(ConnectionLimit, ABrokerAtMaxConnectionsIsNamedAsAPossibleCause) {
    Broker broker({{}, {}, {"max_connections 1"}});
    TempDir dir;
    auto subscriber = start_subscriber(broker.port_str(), dir, {});
    const auto r = run({publisher_path(), "-p", broker.port_str(), "-n", "10"}, dir.path(), 30s);
    EXPECT_EQ(r.status, 3) << r.err;
    EXPECT_NE(r.err.find("connection closed before CONNACK"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("at its connection limit, max_connections"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace harness

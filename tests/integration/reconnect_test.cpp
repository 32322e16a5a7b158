// Faults the programs must survive: the broker restarting under a running pair. Each test
// names its fault and its expected counts (lost, duplicated) and checks them in the reports.

#include <signal.h>

#include <gtest/gtest.h>

#include "pair.hpp"

namespace harness {
namespace {

TEST(Reconnect, BrokerGracefulRestartMidRunLosesNothing) {
    // Fault: Mosquitto stopped with SIGTERM (it saves its sessions and queued messages) and
    // started again on the same port. Expected: lost 0; duplicates allowed (QoS 1 resends);
    // both programs reconnect, the subscriber's persistent session survives.
    Broker broker;
    TempDir dir;
    const auto sub = start_subscriber(broker.port_str(), dir, {"--reconnect-max", "0.5"});
    ChildProcess pub({publisher_path(), "-p", broker.port_str(), "-n", "20000", "-r", "4000",
                      "--reconnect-max", "0.5", "--report", (dir / "pub.json").string()},
                     dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_count(dir / "sub.err", "received ", 4000, 30s));
    broker.restart();
    ASSERT_EQ(pub.wait(120s), 0) << read_file(dir / "pub.err");
    ASSERT_EQ(sub->wait(120s), 0) << read_file(dir / "sub.out") << read_file(dir / "sub.err");

    const auto p = read_json(dir / "pub.json");
    const auto s = read_json(dir / "sub.json");
    EXPECT_EQ(p.at("confirmed"), 20000);
    EXPECT_EQ(s.at("unique"), 20000);
    EXPECT_EQ(s.at("missing"), 0);
    EXPECT_EQ(s.at("end_reason"), "complete");
    ASSERT_GE(p.at("reconnects").size(), 1u) << p.dump();
    ASSERT_GE(s.at("reconnects").size(), 1u) << s.dump();
    EXPECT_TRUE(s.at("reconnects")[0].at("session_present").get<bool>())
        << "Mosquitto saved the subscriber's session on SIGTERM";
    EXPECT_NE(read_file(dir / "sub.err").find("reconnected at"), std::string::npos);
    EXPECT_NE(read_file(dir / "sub.out").find("mqtt_subscriber: VERIFIED: "), std::string::npos);
}

TEST(Reconnect, ABrokerThatNeverComesBackEndsBothProgramsAfterGiveUpAfter) {
    // Fault: the broker is killed and not restarted. Expected: both programs keep trying for
    // --give-up-after, then exit 3 naming the outage, with a report.
    auto broker = std::make_unique<Broker>();
    TempDir dir;
    const std::string port = broker->port_str();
    const auto sub = start_subscriber(port, dir, {"--give-up-after", "1"});
    ChildProcess pub({publisher_path(), "-p", port, "-n", "100000", "-r", "2000", "--give-up-after",
                      "1", "--report", (dir / "pub.json").string()},
                     dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_count(dir / "sub.err", "received ", 1000, 30s));
    ::kill(broker->pid(), SIGKILL);
    broker.reset();
    EXPECT_EQ(pub.wait(60s), 3) << read_file(dir / "pub.err");
    EXPECT_EQ(sub->wait(60s), 3) << read_file(dir / "sub.err");
    for (const char* report : {"pub.json", "sub.json"}) {
        const auto rep = read_json(dir / report);
        EXPECT_EQ(rep.at("end_reason"), "connection-lost") << report;
        EXPECT_NE(rep.at("error").get<std::string>().find("gave up after"), std::string::npos)
            << rep.at("error");
    }
}

TEST(Takeover, TwoSubscribersWithOneClientIdEndInsteadOfTakingTheSessionForEver) {
    // Before issue 29 they took the session from each other about 6 times a second, and each
    // reconnect restarted the idle timer, so neither ever ended.
    Broker broker;
    TempDir dir;
    const auto start = [&](const std::string& name) {
        return std::make_unique<ChildProcess>(
            std::vector<std::string>{subscriber_path(), "-p", broker.port_str(), "-i", "twin",
                                     "--idle-timeout", "2", "--progress-every", "0"},
            dir / (name + ".out"), dir / (name + ".err"));
    };
    auto a = start("a");
    auto b = start("b");
    const auto status_a = a->wait(60s), status_b = b->wait(60s);
    ASSERT_TRUE(status_a && status_b) << "still fighting over the session";
    const std::string errs = read_file(dir / "a.err") + read_file(dir / "b.err");
    // Mosquitto 2.0 closes a taken-over connection without a DISCONNECT: the line names the
    // id as one cause, a session taken over (0x8E) as the cause.
    EXPECT_TRUE(errs.find("the broker ended the session of client id twin 3 times in a row") !=
                    std::string::npos ||
                (errs.find("3 times in a row within 1 s") != std::string::npos &&
                 errs.find("another client using client id twin") != std::string::npos))
        << errs;
    EXPECT_TRUE(*status_a == 3 || *status_b == 3) << errs;
}

}  // namespace
}  // namespace harness

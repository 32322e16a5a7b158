// A broker lost mid-run, in both programs and both engines: exit 3 and a report from each.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "pair.hpp"

namespace harness {
namespace {

class ConnectionLost : public testing::TestWithParam<std::string> {};

TEST_P(ConnectionLost, BrokerKilledMidRunIsExitThreeWithAReportFromEachProgram) {
    // --give-up-after 0: no reconnecting (tests/integration/reconnect_test.cpp has those).
    Broker broker;
    TempDir dir;
    const auto sub =
        start_subscriber(broker.port_str(), dir, {"--client", GetParam(), "--give-up-after", "0"});
    ChildProcess pub(
        {publisher_path(), "-p", broker.port_str(), "--client", GetParam(), "-n", "100000", "-r",
         "2000", "--give-up-after", "0", "--report", (dir / "pub.json").string()},
        dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_count(dir / "sub.err", "received ", 1000, 30s));
    ::kill(broker.pid(), SIGKILL);
    EXPECT_EQ(pub.wait(60s), 3) << read_file(dir / "pub.err");
    EXPECT_EQ(sub->wait(60s), 3) << read_file(dir / "sub.err");
    for (const char* report : {"pub.json", "sub.json"}) {
        const auto rep = read_json(dir / report);
        EXPECT_EQ(rep.at("end_reason"), "connection-lost") << report;
        EXPECT_EQ(rep.at("exit_status"), 3) << report;
        EXPECT_NE(rep.at("error").get<std::string>().find("127.0.0.1:" + broker.port_str()),
                  std::string::npos)
            << rep.at("error");
    }
    EXPECT_GE(read_json(dir / "sub.json").at("unique").get<int>(), 1000);
}
INSTANTIATE_TEST_SUITE_P(BothEngines, ConnectionLost, testing::Values("native", "libmosquitto"));

}  // namespace
}  // namespace harness

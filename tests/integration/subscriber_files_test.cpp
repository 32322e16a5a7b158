// The subscriber's output files: checked before anything connects, never left empty by a kill.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "pair.hpp"

namespace harness {
namespace {

TEST(SubscriberFiles, AnUnwritableOutputFileIsAUsageErrorBeforeConnecting) {
    TempDir dir;
    // No broker listens on this port: exit 2 (not 3) shows the file was checked first.
    const std::string port = std::to_string(free_port());
    for (const char* flag : {"--report", "--csv", "--html"}) {
        const auto r =
            run({subscriber_path(), "-p", port, flag, "/nonexistent-dir/out"}, dir.path(), 30s);
        EXPECT_EQ(r.status, 2) << flag << ": " << r.err;
        EXPECT_NE(r.err.find("/nonexistent-dir/out"), std::string::npos) << r.err;
    }
}

// A result file is written whole at the end or not at all: a subscriber killed mid-run
// leaves neither an empty report nor its temporary file, and an earlier report stays as it was
// [issue 29]. (Before, the report was created empty up front.)
TEST(SubscriberFiles, AKilledRunLeavesNoEmptyReportAndKeepsTheEarlierOne) {
    Broker broker;
    TempDir dir;
    const fs::path earlier = dir / "earlier.json";
    { std::ofstream(earlier) << "{\"kept\": true}\n"; }
    auto fresh = start_subscriber(broker.port_str(), dir, {"--html", (dir / "sub.html").string()});
    auto again = [&] {
        std::vector<std::string> cmd{subscriber_path(), "-p", broker.port_str(), "--report",
                                     earlier.string()};
        return std::make_unique<ChildProcess>(cmd, dir / "again.out", dir / "again.err");
    }();
    EXPECT_TRUE(wait_for_text(dir / "again.err", "(ready)", 20s)) << read_file(dir / "again.err");
    fresh->signal(SIGKILL);
    again->signal(SIGKILL);
    fresh->wait(10s);
    again->wait(10s);
    EXPECT_FALSE(fs::exists(dir / "sub.json")) << "an empty report was left behind";
    EXPECT_FALSE(fs::exists(dir / "sub.html"));
    EXPECT_FALSE(fs::exists(dir / "sub.json.tmp"));
    EXPECT_EQ(read_file(earlier), "{\"kept\": true}\n");
}
}  // namespace
}  // namespace harness

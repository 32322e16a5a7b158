// --rate holds: the publisher never runs ahead of it.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "pair.hpp"

namespace harness {
namespace {

TEST(Rate, ThePublisherNeverRunsAheadOfItsRate) {
    Broker broker;
    TempDir dir;
    const auto r = run({publisher_path(), "-p", broker.port_str(), "-n", "3000", "-r", "1000",
                        "--report", (dir / "pub.json").string()},
                       dir.path(), 60s);
    ASSERT_EQ(r.status, 0) << r.err;
    const auto rep = read_json(dir / "pub.json");
    // 3,000 messages at 1,000/s cannot take less than 2 s (the last is due at 2.999 s).
    EXPECT_GE(rep.at("elapsed_s").get<double>(), 2.9);
    EXPECT_LE(rep.at("msgs_per_sec").get<double>(), 1000.0 * 3000 / 2900);
    for (const auto& row : rep.at("timeline")) {
        if (row.at("t").get<double>() >= 1.5) {  // whole seconds after the start
            EXPECT_LE(row.at("msgs_per_sec").get<double>(), 1500.0) << row.dump();
        }
    }
}
}  // namespace
}  // namespace harness

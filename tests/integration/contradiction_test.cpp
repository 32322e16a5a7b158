// Two publishers under one run id: the same sequence numbers with other values are named.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "pair.hpp"

namespace harness {
namespace {

// Two publishers under one run id, other seeds: their readings share sequence numbers but not
// values. Before issue 29 these counted as legal duplicates and the run was VERIFIED.
TEST(Contradiction, ASecondPublisherUsingTheRunIdIsNotVerifiedAndNamed) {
    Broker broker;
    TempDir dir;
    const auto sub = start_subscriber(broker.port_str(), dir, {"--idle-timeout", "3"});
    const auto publisher = [&](const std::string& name, const std::string& seed) {
        return std::make_unique<ChildProcess>(
            std::vector<std::string>{publisher_path(), "-p", broker.port_str(), "--run-id",
                                     "twin-run", "--seed", seed, "-n", "2000", "--rate", "2000"},
            dir / (name + ".out"), dir / (name + ".err"));
    };
    auto a = publisher("a", "1");
    auto b = publisher("b", "2");
    a->wait(60s);
    b->wait(60s);
    ASSERT_EQ(sub->wait(60s), 1) << read_file(dir / "sub.out");
    const std::string out = read_file(dir / "sub.out");
    EXPECT_NE(out.find("arrived twice with different values"), std::string::npos) << out;
    EXPECT_GT(read_json(dir / "sub.json").at("contradictions").get<int>(), 0);
}
}  // namespace
}  // namespace harness

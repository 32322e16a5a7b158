// Latency is end to end: a stalled broker shows as latency, not as a lower rate.
#include <signal.h>

#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "pair.hpp"
#include "telemetry/payload.hpp"

namespace harness {
namespace {

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
}  // namespace
}  // namespace harness

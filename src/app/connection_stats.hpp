#pragma once
// How a program's connections went, for connection workloads (a subscriber fleet,
// --connect-only, --reconnect-storm): every step its clients time (mqtt::StepTiming) into a
// histogram per step, CONNACK refusals by reason, connections that failed or dropped; turned
// into the report's Connections. One for all the clients of a loop (a histogram is ~36 KB).

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mqtt/client.hpp"
#include "report/model.hpp"
#include "telemetry/latency_histogram.hpp"

namespace app {

class ConnectionStats {
  public:
    using Clock = std::chrono::steady_clock;

    // `planned` connections, the first attempted now.
    explicit ConnectionStats(std::uint64_t planned, Clock::time_point start = Clock::now());

    // Feeds these stats from `client`'s step timings (its one step handler).
    void watch(mqtt::Client& client);
    void record(const mqtt::StepTiming& timing, Clock::time_point now = Clock::now());
    // A connection ended in this error (refused, unreachable, lost for good).
    void failed(const std::string& error);
    // Something to list beside the failures (a connection that dropped and came back: why).
    void note(const std::string& what);
    void held(double seconds) { held_s_ = seconds; }

    std::uint64_t connected() const { return connected_; }
    std::uint64_t first_connects() const { return first_connects_; }
    std::uint64_t subscribed() const { return subscribed_; }
    report::Connections report() const;

  private:
    static std::string step_name(const mqtt::StepTiming& timing);

    std::uint64_t planned_;
    Clock::time_point start_, last_first_connack_{};
    std::uint64_t connected_{0}, first_connects_{0}, refused_{0}, failed_{0}, lost_{0};
    std::uint64_t reconnected_{0}, subscribed_{0}, subscribe_refused_{0};
    std::map<std::string, std::uint64_t> refused_by_reason_;
    std::vector<std::string> failures_;
    double held_s_{0.0};
    std::map<std::string, telemetry::LatencyHistogram> steps_;
};

}  // namespace app

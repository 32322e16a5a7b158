#pragma once
// The run summary the publisher sends on the control topic after its last confirmation:
// it tells the consumer exactly what to expect, so loss at the end of a run is visible too.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace telemetry {

struct DeviceSummary {
    std::string device;
    std::uint64_t count{};     // messages published by this device
    std::uint64_t last_seq{};  // highest sequence number published (== count: seq starts at 1)
    // How it reached the broker ("tcp", "tls", "ws", "wss"; written "via"; empty: not said), so
    // that a consumer can break latency down by transport. Not part of claim_digest: it says
    // nothing about what was published, and a resumed publisher may come back another way.
    std::string transport;
    // The topic it published its readings on (written "topic"; empty: not said), so that a
    // consumer whose filters do not match it does not expect its readings.
    std::string topic;

    bool operator==(const DeviceSummary&) const = default;
};

struct RunSummary {
    std::string run;
    int qos{1};
    std::uint64_t published{};
    std::uint64_t confirmed{};
    bool interrupted{false};
    std::vector<DeviceSummary> devices;
    // One of several publisher processes sharing the run (--shard I/N): the run is summarised
    // only when every shard's summary is in. Written as "shard":[I,N] when N > 1.
    std::uint32_t shard{1};
    std::uint32_t shards{1};
    // The publisher sent messages later than its --max-schedule-lag-ms after they were due: its
    // largest lag, so that consumers do not take it for the broker's latency. 0: on schedule.
    double behind_schedule_ms{0};

    bool operator==(const RunSummary&) const = default;
};

std::string encode_run_summary(const RunSummary& summary);

// A digest of what the summary claims (every field but behind_schedule_ms, which is no claim
// about what was published), computed without encoding it: a second summary of the same run
// must give the same digest. Not cryptographic.
std::uint64_t claim_digest(const RunSummary& summary);

struct DecodedRunSummary {
    std::optional<RunSummary> summary;
    std::string error;
};

DecodedRunSummary decode_run_summary(std::string_view payload);

// What a publisher has sent and had confirmed so far, sent once a second on the control topic
// while it runs, so that the consumer can show the backlog between the two sides.
struct RunProgress {
    std::string run;
    std::uint64_t published{};
    std::uint64_t confirmed{};
    std::uint32_t shard{1};  // of a sharded run ("shard":[I,N] when N > 1), as in the summary
    std::uint32_t shards{1};
    bool operator==(const RunProgress&) const = default;
};

std::string encode_run_progress(const RunProgress& progress);
// nullopt if the payload is not a run progress message (a summary, say).
std::optional<RunProgress> decode_run_progress(std::string_view payload);

}  // namespace telemetry

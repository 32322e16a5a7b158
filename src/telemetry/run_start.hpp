#pragma once
// The start barrier of a run spread over several publisher processes (--shard I/N): a retained
// message on the run's start topic that says when the run begins and how many shards it has.
// A consumer publishes it once it is subscribed (mqtt_subscriber --announce-start), so that no
// shard sends before the consumers listen; every shard waits for it (mqtt_publisher
// --wait-for-start) and begins at the same wall-clock instant. A shard that replaces one that
// failed finds it retained and begins at once.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace telemetry {

struct RunStart {
    std::string run;
    std::uint32_t shards{1};
    std::int64_t start_epoch_us{};  // when the shards begin (Unix time, µs)
    bool operator==(const RunStart&) const = default;
};

// The start topics: "telemetry/run-start/<run>".
inline constexpr std::string_view kRunStartTopics = "telemetry/run-start/";
std::string run_start_topic(std::string_view run);

std::string encode_run_start(const RunStart& start);
// nullopt for anything that is not one, with `error` saying why.
std::optional<RunStart> decode_run_start(std::string_view payload, std::string& error);

// The start time for an announcement made at `now_us` with `delay_us` to spare: the next whole
// multiple of `grid_us` after now + delay, so that two consumers announcing at nearly the same
// moment name the same instant.
std::int64_t start_on_grid(std::int64_t now_us, std::int64_t delay_us, std::int64_t grid_us);

}  // namespace telemetry

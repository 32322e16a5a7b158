#pragma once
// End-to-end repair: QoS 1 promises at-least-once per hop only, so a broker that dies before
// writing what it acknowledged (kill -9) loses messages no MQTT flow resends. The consumer asks
// for its missing ranges on `<repair topic>/<run>`; a publisher that still holds them in its
// replay buffer publishes them again, byte for byte. When the run is complete, the consumer
// says so on the same topic, and the publisher stops waiting for requests.
//
//   {"type":"repair_request","run":"R","ranges":[{"dev":"D","first":5,"last":9}, ...]}
//   {"type":"repair_done","run":"R"}

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace telemetry {

struct RepairRange {
    std::string device;
    std::uint64_t first{};
    std::uint64_t last{};
    bool operator==(const RepairRange&) const = default;
};

struct RepairMessage {
    std::string run;
    bool done{false};                 // repair_done: nothing more is needed
    std::vector<RepairRange> ranges;  // repair_request
    bool operator==(const RepairMessage&) const = default;
};

// Requests carry at most this many ranges; the consumer asks again for the rest.
inline constexpr std::size_t kMaxRepairRanges = 1000;

std::string encode_repair(const RepairMessage& message);
// nullopt, with `error` set, for anything that is not a valid repair message.
std::optional<RepairMessage> decode_repair(std::string_view payload, std::string& error);

}  // namespace telemetry

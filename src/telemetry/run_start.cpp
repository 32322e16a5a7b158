#include "telemetry/run_start.hpp"

#include <nlohmann/json.hpp>

namespace telemetry {

std::string run_start_topic(std::string_view run) {
    return std::string(kRunStartTopics) + std::string(run);
}

std::string encode_run_start(const RunStart& s) {
    return nlohmann::json{{"type", "run_start"},
                          {"run", s.run},
                          {"shards", s.shards},
                          {"start_epoch_us", s.start_epoch_us}}
        .dump();
}

std::optional<RunStart> decode_run_start(std::string_view payload, std::string& error) {
    const nlohmann::json j = nlohmann::json::parse(payload, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("type", "") != "run_start") {
        error = "not a run_start object";
        return std::nullopt;
    }
    RunStart s;
    try {
        s.run = j.at("run").get<std::string>();
        s.shards = j.at("shards").get<std::uint32_t>();
        s.start_epoch_us = j.at("start_epoch_us").get<std::int64_t>();
    } catch (const nlohmann::json::exception&) {
        error = "run_start needs \"run\" (text), \"shards\" and \"start_epoch_us\" (numbers)";
        return std::nullopt;
    }
    if (s.run.empty() || s.shards == 0) {
        error = "run_start with an empty run or no shards";
        return std::nullopt;
    }
    return s;
}

std::int64_t start_on_grid(std::int64_t now_us, std::int64_t delay_us, std::int64_t grid_us) {
    const std::int64_t earliest = now_us + delay_us;
    return (earliest / grid_us + 1) * grid_us;
}

}  // namespace telemetry

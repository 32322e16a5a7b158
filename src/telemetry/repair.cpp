#include "telemetry/repair.hpp"

#include <nlohmann/json.hpp>

#include "telemetry/payload.hpp"

namespace telemetry {

std::string encode_repair(const RepairMessage& m) {
    nlohmann::ordered_json doc = {{"type", m.done ? "repair_done" : "repair_request"},
                                  {"run", m.run}};
    if (!m.done) {
        nlohmann::ordered_json ranges = nlohmann::ordered_json::array();
        for (const RepairRange& r : m.ranges)
            ranges.push_back({{"dev", r.device}, {"first", r.first}, {"last", r.last}});
        doc["ranges"] = std::move(ranges);
    }
    return doc.dump();
}

std::optional<RepairMessage> decode_repair(std::string_view payload, std::string& error) {
    const auto doc = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
        error = "repair message is not a JSON object";
        return std::nullopt;
    }
    try {
        RepairMessage m;
        const std::string type = doc.at("type").get<std::string>();
        if (type != "repair_request" && type != "repair_done")
            throw std::invalid_argument("unknown type \"" + type + "\"");
        m.done = type == "repair_done";
        m.run = doc.at("run").get<std::string>();
        if (!is_plain_identifier(m.run)) throw std::invalid_argument("invalid \"run\"");
        if (!m.done) {
            for (const auto& r : doc.at("ranges")) {
                // A float here would convert with undefined behaviour (found by the fuzzer).
                if (!r.at("first").is_number_unsigned() || !r.at("last").is_number_unsigned())
                    throw std::invalid_argument("\"first\" and \"last\" must be integers >= 1");
                RepairRange range{r.at("dev").get<std::string>(),
                                  r.at("first").get<std::uint64_t>(),
                                  r.at("last").get<std::uint64_t>()};
                if (range.first == 0 || range.last < range.first)
                    throw std::invalid_argument("a range must be 1 <= first <= last");
                m.ranges.push_back(std::move(range));
            }
            if (m.ranges.size() > kMaxRepairRanges)
                throw std::invalid_argument("more than " + std::to_string(kMaxRepairRanges) +
                                            " ranges");
        }
        return m;
    } catch (const std::exception& e) {
        error = std::string("repair message: ") + e.what();
        return std::nullopt;
    }
}

}  // namespace telemetry

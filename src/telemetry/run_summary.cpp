#include "telemetry/run_summary.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "telemetry/payload.hpp"

namespace telemetry {

using nlohmann::json;

// Written in the order README documents (type first): ordered_json keeps insertion order, where
// json would sort the keys. Found by the golden tests of the documented form.
std::string encode_run_summary(const RunSummary& s) {
    nlohmann::ordered_json devices = nlohmann::ordered_json::array();
    for (const DeviceSummary& d : s.devices)
        devices.push_back({{"dev", d.device}, {"count", d.count}, {"last_seq", d.last_seq}});
    nlohmann::ordered_json doc = {{"type", "run_summary"},
                                  {"v", kSchemaVersion},
                                  {"run", s.run},
                                  {"qos", s.qos},
                                  {"published", s.published},
                                  {"confirmed", s.confirmed},
                                  {"interrupted", s.interrupted}};
    if (s.shards > 1) doc["shard"] = {s.shard, s.shards};
    if (s.behind_schedule_ms > 0) doc["behind_schedule_ms"] = s.behind_schedule_ms;
    doc["devices"] = std::move(devices);
    return doc.dump();
}

namespace {
// nlohmann converts -1 to a huge unsigned number without complaint; counts must be checked.
std::uint64_t count_field(const json& obj, const char* name) {
    const json& v = obj.at(name);
    if (!v.is_number_unsigned())
        throw std::invalid_argument(std::string("\"") + name + "\" must be an unsigned integer");
    return v.get<std::uint64_t>();
}
// The "type" field, or "" when it is absent or not a string (value() would throw on a number:
// found by fuzz/control_decode_fuzz).
std::string type_of(const json& doc) {
    const auto it = doc.find("type");
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}
// The optional "shard":[I,N] of summaries and progress messages into `shard`/`shards`; an
// error text when it is there but not 1 <= I <= N <= 65535.
std::optional<std::string> read_shard(const json& doc, std::uint32_t& shard,
                                      std::uint32_t& shards) {
    const auto it = doc.find("shard");
    if (it == doc.end()) return std::nullopt;
    if (!it->is_array() || it->size() != 2 || !(*it)[0].is_number_unsigned() ||
        !(*it)[1].is_number_unsigned())
        return std::string("\"shard\" must be [I, N]");
    const auto i = (*it)[0].get<std::uint64_t>(), n = (*it)[1].get<std::uint64_t>();
    if (i < 1 || i > n || n > 65535)
        return std::string("\"shard\" must be [I, N] with 1 <= I <= N <= 65535");
    shard = static_cast<std::uint32_t>(i);
    shards = static_cast<std::uint32_t>(n);
    return std::nullopt;
}
}  // namespace

DecodedRunSummary decode_run_summary(std::string_view payload) {
    const auto fail = [](std::string reason) {
        return DecodedRunSummary{std::nullopt, std::move(reason)};
    };
    const json doc = json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) return fail("run summary is not a JSON object");
    if (type_of(doc) != "run_summary") return fail("run summary lacks \"type\":\"run_summary\"");
    try {
        RunSummary s;
        s.run = doc.at("run").get<std::string>();
        if (!is_plain_identifier(s.run)) return fail("run summary has an invalid \"run\"");
        s.qos = doc.at("qos").get<int>();
        s.published = count_field(doc, "published");
        s.confirmed = count_field(doc, "confirmed");
        s.interrupted = doc.value("interrupted", false);
        s.behind_schedule_ms = doc.value("behind_schedule_ms", 0.0);
        if (!(s.behind_schedule_ms >= 0))
            return fail("run summary has an invalid \"behind_schedule_ms\"");
        if (auto bad = read_shard(doc, s.shard, s.shards)) return fail("run summary's " + *bad);
        for (const json& d : doc.at("devices")) {
            DeviceSummary ds{d.at("dev").get<std::string>(), count_field(d, "count"),
                             count_field(d, "last_seq")};
            if (!is_plain_identifier(ds.device))
                return fail("run summary has an invalid device id");
            s.devices.push_back(std::move(ds));
        }
        return {std::move(s), {}};
    } catch (const json::exception& e) {
        return fail(std::string("run summary field error: ") + e.what());
    } catch (const std::invalid_argument& e) {
        return fail(std::string("run summary field error: ") + e.what());
    }
}

std::string encode_run_progress(const RunProgress& p) {
    nlohmann::ordered_json doc{{"type", "run_progress"},
                               {"v", kSchemaVersion},
                               {"run", p.run},
                               {"published", p.published},
                               {"confirmed", p.confirmed}};
    if (p.shards > 1) doc["shard"] = {p.shard, p.shards};
    return doc.dump();
}

std::optional<RunProgress> decode_run_progress(std::string_view payload) {
    const json doc = json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object() || type_of(doc) != "run_progress")
        return std::nullopt;
    try {
        RunProgress p{doc.at("run").get<std::string>(), count_field(doc, "published"),
                      count_field(doc, "confirmed")};
        if (!is_plain_identifier(p.run)) return std::nullopt;
        if (read_shard(doc, p.shard, p.shards)) return std::nullopt;
        return p;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace telemetry

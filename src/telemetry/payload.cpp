#include "telemetry/payload.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace telemetry {
namespace {

using nlohmann::json;

DecodedReading fail(std::string reason) {
    return {std::nullopt, std::move(reason)};
}

}  // namespace

bool is_plain_identifier(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}

std::string_view encode_reading(const Reading& r, std::string& out) {
    out.clear();
    fmt::format_to(std::back_inserter(out),
                   R"({{"v":{},"run":"{}","dev":"{}","seq":{},"ts":{},"temp":{:.2f},"hum":{:.2f},)"
                   R"("pres":{:.2f},"batt":{:.2f}}})",
                   kSchemaVersion, r.run, r.device, r.seq, r.ts_us, r.temperature_c, r.humidity_pct,
                   r.pressure_hpa, r.battery_pct);
    return out;
}

DecodedReading decode_reading(std::string_view payload) {
    json doc = json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return fail("not valid JSON");
    if (!doc.is_object()) return fail("not a JSON object");

    const auto field = [&](const char* name) -> const json* {
        auto it = doc.find(name);
        return it == doc.end() ? nullptr : &*it;
    };

    const json* v = field("v");
    if (v == nullptr || !v->is_number_integer() || v->get<std::int64_t>() != kSchemaVersion)
        return fail("\"v\" must be schema version 1");

    Reading r;
    const json* run = field("run");
    if (run == nullptr || !run->is_string() ||
        !is_plain_identifier(run->get_ref<const std::string&>()))
        return fail("\"run\" must be an identifier of 1-64 characters [A-Za-z0-9._-]");
    r.run = run->get<std::string>();

    const json* dev = field("dev");
    if (dev == nullptr || !dev->is_string() ||
        !is_plain_identifier(dev->get_ref<const std::string&>()))
        return fail("\"dev\" must be an identifier of 1-64 characters [A-Za-z0-9._-]");
    r.device = dev->get<std::string>();

    const json* seq = field("seq");
    if (seq == nullptr || !seq->is_number_unsigned() || seq->get<std::uint64_t>() == 0)
        return fail("\"seq\" must be an integer >= 1");
    r.seq = seq->get<std::uint64_t>();

    const json* ts = field("ts");
    if (ts == nullptr || !ts->is_number_integer() || ts->get<std::int64_t>() <= 0)
        return fail("\"ts\" must be a positive integer (microseconds since the epoch)");
    r.ts_us = ts->get<std::int64_t>();

    struct Bounded {
        const char* name;
        double* target;
        double min;
        double max;
    };
    const Bounded values[] = {
        {"temp", &r.temperature_c, -273.15, 1000.0},
        {"hum", &r.humidity_pct, 0.0, 100.0},
        {"pres", &r.pressure_hpa, 0.0, 2000.0},
        {"batt", &r.battery_pct, 0.0, 100.0},
    };
    for (const Bounded& b : values) {
        const json* value = field(b.name);
        if (value == nullptr || !value->is_number())
            return fail(fmt::format("\"{}\" must be a number", b.name));
        const double d = value->get<double>();
        if (!(d >= b.min && d <= b.max))
            return fail(fmt::format("\"{}\" must be within [{}, {}]", b.name, b.min, b.max));
        *b.target = d;
    }
    return {std::move(r), {}};
}

}  // namespace telemetry

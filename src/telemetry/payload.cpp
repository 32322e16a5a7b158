#include "telemetry/payload.hpp"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <bit>
#include <cmath>

#include <simdjson.h>
#include <zlib.h>

namespace telemetry {
namespace {

DecodedReading fail(std::string reason) {
    return {std::nullopt, std::move(reason), DecodeProblem::Malformed};
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
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

namespace {
// Two decimals as integer hundredths: several times faster than floating-point formatting,
// and the simulated sensors have no more precision than that.
void append_hundredths(fmt::memory_buffer& out, double value) {
    const auto h = static_cast<std::int64_t>(std::llround(value * 100.0));
    const std::uint64_t a = h < 0 ? static_cast<std::uint64_t>(-h) : static_cast<std::uint64_t>(h);
    fmt::format_to(std::back_inserter(out), FMT_COMPILE("{}{}.{:02}"), h < 0 ? "-" : "", a / 100,
                   a % 100);
}
void append(fmt::memory_buffer& out, std::string_view text) {
    out.append(text);
}
}  // namespace

std::string_view encode_reading(const Reading& r, std::string& out) {
    // fmt's own buffer with compiled format strings: a std::string back_inserter costs more.
    fmt::memory_buffer buf;
    fmt::format_to(std::back_inserter(buf),
                   FMT_COMPILE(R"({{"v":{},"run":"{}","dev":"{}","seq":{},"ts":{},"temp":)"),
                   kSchemaVersion, r.run, r.device, r.seq, r.ts_us);
    append_hundredths(buf, r.temperature_c);
    append(buf, R"(,"hum":)");
    append_hundredths(buf, r.humidity_pct);
    append(buf, R"(,"pres":)");
    append_hundredths(buf, r.pressure_hpa);
    append(buf, R"(,"batt":)");
    append_hundredths(buf, r.battery_pct);
    // Only when set: most readings are of healthy devices.
    if (r.fault != SensorFault::None) {
        append(buf, R"(,"fault":")");
        append(buf, fault_name(r.fault));
        append(buf, "\"");
    }
    if (r.battery_low) append(buf, R"(,"batt_low":true)");
    const std::uint32_t crc = payload_crc({buf.data(), buf.size()});
    fmt::format_to(std::back_inserter(buf), FMT_COMPILE(R"(,"crc":"{:08x}"}})"), crc);
    out.assign(buf.data(), buf.size());
    return out;
}

std::string_view fault_name(SensorFault fault) {
    switch (fault) {
        case SensorFault::Stuck:
            return "stuck";
        case SensorFault::Spike:
            return "spike";
        case SensorFault::Dropout:
            return "dropout";
        case SensorFault::None:
            break;
    }
    return "";
}

std::uint32_t payload_crc(std::string_view body) {
    return static_cast<std::uint32_t>(
        crc32_z(0, reinterpret_cast<const Bytef*>(body.data()), body.size()));
}

namespace {

// The checksum first: a corrupted payload may no longer be JSON at all. A failure, or nothing.
std::optional<DecodedReading> check_crc(std::string_view payload) {
    constexpr std::string_view kCrcKey = R"(,"crc":")";
    if (payload.size() < kCrcSuffixSize ||
        payload.substr(payload.size() - kCrcSuffixSize, kCrcKey.size()) != kCrcKey ||
        payload.substr(payload.size() - 2) != "\"}")
        return fail(R"(payload must end with ,"crc":"<8 lower-case hex digits>"})");
    std::uint32_t announced = 0;
    for (char c : payload.substr(payload.size() - 10, 8)) {
        const int h = hex_value(c);
        if (h < 0) return fail(R"("crc" must be 8 lower-case hex digits)");
        announced = (announced << 4) | static_cast<std::uint32_t>(h);
    }
    const std::uint32_t actual = payload_crc(payload.substr(0, payload.size() - kCrcSuffixSize));
    if (actual == announced) return std::nullopt;
    return DecodedReading{
        std::nullopt,
        fmt::format("checksum mismatch: crc {:08x}, content {:08x}", announced, actual),
        DecodeProblem::Corrupt};
}

// The fields a reading must have, one bit each.
enum Seen : unsigned {
    kV = 1,
    kRun = 2,
    kDev = 4,
    kSeq = 8,
    kTs = 16,
    kTemp = 32,
    kHum = 64,
    kPres = 128,
    kBatt = 256
};

constexpr const char* kBadId = "must be an identifier of 1-64 characters [A-Za-z0-9._-]";
constexpr const char* kBadV = "\"v\" must be schema version 1";
constexpr const char* kBadSeq = "\"seq\" must be an integer >= 1";
constexpr const char* kBadTs = "\"ts\" must be a positive integer (microseconds since the epoch)";

std::optional<std::string> read_number(simdjson::ondemand::value value, const char* name,
                                       double min, double max, double& target) {
    double d = 0;
    if (value.get_double().get(d)) return fmt::format("\"{}\" must be a number", name);
    if (!(d >= min && d <= max))
        return fmt::format("\"{}\" must be within [{}, {}]", name, min, max);
    target = d;
    return std::nullopt;
}

std::optional<std::string> read_fault(simdjson::ondemand::value value, Reading& r) {
    std::string_view name;
    if (value.get_string().get(name)) name = {};
    for (const auto f : {SensorFault::Stuck, SensorFault::Spike, SensorFault::Dropout})
        if (name == fault_name(f)) r.fault = f;
    if (r.fault == SensorFault::None) return R"("fault" must be "stuck", "spike" or "dropout")";
    return std::nullopt;
}

// One field into `r`, marking it in `seen`; the problem, if any. Unknown keys are ignored.
std::optional<std::string> read_field(std::string_view key, simdjson::ondemand::value value,
                                      Reading& r, unsigned& seen) {
    if (key == "v") {
        std::int64_t v = 0;
        if (value.get_int64().get(v) || v != kSchemaVersion) return kBadV;
        seen |= kV;
    } else if (key == "run" || key == "dev") {
        std::string_view id;
        if (value.get_string().get(id) || !is_plain_identifier(id))
            return fmt::format("\"{}\" {}", key, kBadId);
        (key == "run" ? r.run : r.device).assign(id);
        seen |= key == "run" ? kRun : kDev;
    } else if (key == "seq") {
        if (value.get_uint64().get(r.seq) || r.seq == 0) return kBadSeq;
        seen |= kSeq;
    } else if (key == "ts") {
        if (value.get_int64().get(r.ts_us) || r.ts_us <= 0) return kBadTs;
        seen |= kTs;
    } else if (key == "temp") {
        seen |= kTemp;
        return read_number(value, "temp", -273.15, 1000.0, r.temperature_c);
    } else if (key == "hum") {
        seen |= kHum;
        return read_number(value, "hum", 0.0, 100.0, r.humidity_pct);
    } else if (key == "pres") {
        seen |= kPres;
        return read_number(value, "pres", 0.0, 2000.0, r.pressure_hpa);
    } else if (key == "batt") {
        seen |= kBatt;
        return read_number(value, "batt", 0.0, 100.0, r.battery_pct);
    } else if (key == "fault") {
        return read_fault(value, r);
    } else if (key == "batt_low") {
        if (value.get_bool().get(r.battery_low)) return R"("batt_low" must be true or false)";
    }
    return std::nullopt;
}

// The first required field that did not appear, as its problem.
std::optional<std::string> missing_field(unsigned seen) {
    static const std::pair<unsigned, std::string> kRequired[] = {
        {kV, kBadV},
        {kRun, std::string("\"run\" ") + kBadId},
        {kDev, std::string("\"dev\" ") + kBadId},
        {kSeq, kBadSeq},
        {kTs, kBadTs},
        {kTemp, "\"temp\" must be a number"},
        {kHum, "\"hum\" must be a number"},
        {kPres, "\"pres\" must be a number"},
        {kBatt, "\"batt\" must be a number"},
    };
    for (const auto& [bit, message] : kRequired)
        if ((seen & bit) == 0) return message;
    return std::nullopt;
}

}  // namespace

DecodedReading decode_reading(std::string_view payload) {
    if (auto corrupt = check_crc(payload)) return std::move(*corrupt);
    // simdjson's on-demand parser: the subscriber decodes every message, and a DOM parser
    // (nlohmann) cost more CPU per message than all of our MQTT handling together.
    thread_local simdjson::ondemand::parser parser;
    thread_local std::string padded;
    padded.assign(payload);
    padded.resize(payload.size() + simdjson::SIMDJSON_PADDING);
    simdjson::ondemand::document doc;
    if (parser.iterate(padded.data(), payload.size(), padded.size()).get(doc))
        return fail("not valid JSON");
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj)) return fail("not a JSON object");
    unsigned seen = 0;
    Reading r;
    for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key)) return fail("not valid JSON");
        simdjson::ondemand::value value;
        if (field.value().get(value)) return fail("not valid JSON");
        if (auto problem = read_field(key, value, r, seen)) return fail(std::move(*problem));
    }
    if (auto problem = missing_field(seen)) return fail(std::move(*problem));
    const std::uint64_t content = content_digest(r);
    return {std::move(r), {}, DecodeProblem::None, content};
}

std::uint64_t content_digest(const Reading& r) {
    std::uint64_t h = 0x84222325CBF29CE4u;
    const auto mix = [&h](std::uint64_t v) { h ^= v + 0x9E3779B97F4A7C15u + (h << 6) + (h >> 2); };
    // Not temperature and humidity: they follow the daily cycle of the send time, which a
    // resumed publisher's resend does not repeat (33 of 4,907 resent readings differed).
    for (const double v : {r.pressure_hpa, r.battery_pct}) mix(std::bit_cast<std::uint64_t>(v));
    mix(static_cast<std::uint64_t>(r.fault) << 1 | (r.battery_low ? 1u : 0u));
    return h | 1;  // never 0, which means unknown
}

}  // namespace telemetry

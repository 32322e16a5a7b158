#include "telemetry/property_envelope.hpp"

#include <fmt/format.h>

#include <charconv>
#include <variant>

namespace telemetry {
namespace {

constexpr std::array<std::string_view, PropertyEnvelope::kCount> kKeys{
    "mt-v", "mt-run", "mt-dev", "mt-seq", "mt-ts", "mt-body", "mt-crc"};
enum PropertyField : std::size_t {
    kPropV,
    kPropRun,
    kPropDev,
    kPropSeq,
    kPropTs,
    kPropBody,
    kPropCrc
};

DecodedReading bad_properties(std::string reason,
                              DecodeProblem problem = DecodeProblem::Malformed) {
    return {std::nullopt, std::move(reason), problem};
}

template <typename T>
bool parse_number(std::string_view text, T& value, int base = 10) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
}

// The envelope's properties by field (the first of each key), or the first missing one.
std::variant<std::array<std::string_view, PropertyEnvelope::kCount>, std::string_view> collect(
    std::span<const KeyValue> properties) {
    std::array<std::string_view, PropertyEnvelope::kCount> found{};
    std::array<bool, PropertyEnvelope::kCount> seen{};
    for (const KeyValue& p : properties)
        for (std::size_t f = 0; f < kKeys.size(); ++f)
            if (p.key == kKeys[f] && !seen[f]) {
                found[f] = p.value;
                seen[f] = true;
            }
    for (std::size_t f = 0; f < kKeys.size(); ++f)
        if (!seen[f]) return kKeys[f];
    return found;
}

}  // namespace

void PropertyEnvelope::write(const Reading& r, BodyKind kind, std::string_view body) {
    values_[kPropV] = "1";
    values_[kPropRun] = r.run;
    values_[kPropDev] = r.device;
    values_[kPropSeq] = fmt::format("{}", r.seq);
    values_[kPropTs] = fmt::format("{}", r.ts_us);
    values_[kPropBody] = body_kind_name(kind);
    values_[kPropCrc] = fmt::format("{:08x}", payload_crc(body));
}

std::array<KeyValue, PropertyEnvelope::kCount> PropertyEnvelope::pairs() const {
    std::array<KeyValue, kCount> out;
    for (std::size_t f = 0; f < kCount; ++f) out[f] = {kKeys[f], values_[f]};
    return out;
}

bool has_property_envelope(std::span<const KeyValue> properties) {
    for (const KeyValue& p : properties)
        if (p.key == kKeys[kPropV]) return true;
    return false;
}

DecodedReading decode_property_envelope(std::string_view body,
                                        std::span<const KeyValue> properties) {
    const auto collected = collect(properties);
    if (const auto* missing = std::get_if<std::string_view>(&collected))
        return bad_properties(fmt::format("user property {} is missing", *missing));
    const auto& v = std::get<0>(collected);
    std::uint32_t announced = 0;
    if (v[kPropCrc].size() != 8 || !parse_number(v[kPropCrc], announced, 16) ||
        v[kPropCrc].find_first_of("ABCDEF") != std::string_view::npos)
        return bad_properties("user property mt-crc must be 8 lower-case hex digits");
    if (const std::uint32_t actual = payload_crc(body); actual != announced)
        return bad_properties(
            fmt::format("checksum mismatch: mt-crc {:08x}, body {:08x}", announced, actual),
            DecodeProblem::Corrupt);
    if (v[kPropV] != "1") return bad_properties("user property mt-v must be 1");
    Reading r;
    if (!is_plain_identifier(v[kPropRun]))
        return bad_properties("user property mt-run must be 1-64 characters [A-Za-z0-9._-]");
    if (!is_plain_identifier(v[kPropDev]))
        return bad_properties("user property mt-dev must be 1-64 characters [A-Za-z0-9._-]");
    r.run = v[kPropRun];
    r.device = v[kPropDev];
    if (!parse_number(v[kPropSeq], r.seq) || r.seq == 0)
        return bad_properties("user property mt-seq must be a decimal integer >= 1");
    if (!parse_number(v[kPropTs], r.ts_us) || r.ts_us <= 0)
        return bad_properties("user property mt-ts must be a decimal integer > 0 (microseconds)");
    const auto kind = parse_body_kind(v[kPropBody]);
    if (!kind)
        return bad_properties(
            "user property mt-body must be opaque, reading, varying, protobuf, cbor or msgpack");
    return read_body(std::move(r), *kind, body);
}

}  // namespace telemetry

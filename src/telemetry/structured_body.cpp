#include "telemetry/structured_body.hpp"

#include <fmt/format.h>

namespace telemetry {
namespace {

std::size_t varint_size(std::size_t n) {
    std::size_t bytes = 1;
    for (; n >= 0x80; n >>= 7) ++bytes;
    return bytes;
}

// What a filler of n bytes adds to a body: its field's key and length header, and itself.
std::size_t pad_cost(BodyKind kind, std::size_t n) {
    if (kind == BodyKind::Protobuf) return 1 + varint_size(n) + n;  // tag 15, length, bytes
    constexpr std::size_t kKey = 4;                                 // "pad" as a short string
    if (kind == BodyKind::Cbor)
        return kKey + (n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5) + n;
    return kKey + (n < 0x100 ? 2 : n < 0x10000 ? 3 : 5) + n;  // MessagePack bin 8/16/32
}

std::optional<std::string> value_problem(const Reading& r) {
    const auto outside = [](double v, double min, double max) { return !(v >= min && v <= max); };
    if (outside(r.temperature_c, -273.15, 1000.0))
        return R"("temp" must be within [-273.15, 1000])";
    if (outside(r.humidity_pct, 0.0, 100.0)) return R"("hum" must be within [0, 100])";
    if (outside(r.pressure_hpa, 0.0, 2000.0)) return R"("pres" must be within [0, 2000])";
    if (outside(r.battery_pct, 0.0, 100.0)) return R"("batt" must be within [0, 100])";
    return std::nullopt;
}

}  // namespace

void append_structured_body(BodyKind kind, const Reading& r, std::string_view pad,
                            std::string& out) {
    if (kind == BodyKind::Protobuf)
        append_protobuf_body(r, pad, out);
    else
        append_map_body(kind, r, pad, out);
}

std::size_t structured_pad_length(BodyKind kind, std::size_t bare, std::size_t target) {
    if (bare >= target) return 0;
    const std::size_t gap = target - bare;
    // An empty filler is left out (proto3 omits empty bytes), so a filler has at least a byte.
    std::size_t n = gap > 9 ? gap - 9 : 1;
    while (pad_cost(kind, n) < gap) ++n;
    return n;
}

std::optional<std::string> read_structured_body(BodyKind kind, std::string_view body, Reading& r) {
    Reading said;
    auto problem = kind == BodyKind::Protobuf ? decode_protobuf_body(body, said)
                                              : decode_map_body(kind, body, said);
    if (problem) return problem;
    if (said.device != r.device)
        return fmt::format(R"(the body's "dev" "{}" is not the envelope's device "{}")",
                           said.device, r.device);
    if (said.seq != r.seq)
        return fmt::format(R"(the body's "seq" {} is not the envelope's {})", said.seq, r.seq);
    if (said.ts_us != r.ts_us)
        return fmt::format(R"(the body's "ts" {} is not the envelope's {})", said.ts_us, r.ts_us);
    if ((problem = value_problem(said))) return problem;
    said.run = std::move(r.run);
    r = std::move(said);
    return std::nullopt;
}

}  // namespace telemetry

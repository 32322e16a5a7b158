#include "telemetry/payload_format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>

#include "telemetry/envelope.hpp"
#include "telemetry/payload.hpp"
#include "telemetry/structured_body.hpp"

namespace telemetry {
namespace {

// One size: digits and an optional suffix; nullopt when it is not one.
std::optional<std::size_t> parse_one_size(std::string_view text) {
    std::size_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end == text.data()) return std::nullopt;
    const std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
    std::size_t unit = 1;
    if (suffix == "k" || suffix == "K")
        unit = std::size_t{1} << 10;
    else if (suffix == "M")
        unit = std::size_t{1} << 20;
    else if (!suffix.empty())
        return std::nullopt;
    if (value > std::numeric_limits<std::size_t>::max() / unit) return std::nullopt;
    return value * unit;
}

}  // namespace

std::string_view format_name(PayloadFormat format) {
    switch (format) {
        case PayloadFormat::Binary:
            return "binary";
        case PayloadFormat::Random:
            return "random";
        case PayloadFormat::Template:
            return "template";
        case PayloadFormat::File:
            return "file";
        case PayloadFormat::Protobuf:
            return "protobuf";
        case PayloadFormat::Cbor:
            return "cbor";
        case PayloadFormat::MessagePack:
            return "msgpack";
        case PayloadFormat::Json:
            break;
    }
    return "json";
}

std::optional<PayloadFormat> parse_payload_format(std::string_view name) {
    for (const auto f : {PayloadFormat::Json, PayloadFormat::Binary, PayloadFormat::Random,
                         PayloadFormat::Template, PayloadFormat::File, PayloadFormat::Protobuf,
                         PayloadFormat::Cbor, PayloadFormat::MessagePack})
        if (name == format_name(f)) return f;
    return std::nullopt;
}

std::variant<PayloadSize, std::string> parse_payload_size(std::string_view text) {
    const std::size_t dots = text.find("..");
    const auto min = parse_one_size(text.substr(0, dots));
    const auto max = dots == std::string_view::npos ? min : parse_one_size(text.substr(dots + 2));
    if (!min || !max)
        return fmt::format(
            "--payload-size {}: expected bytes as N or N..M, each with an optional "
            "k, K (1,024) or M (1,048,576) suffix",
            text);
    if (*min == 0 || *min > *max)
        return fmt::format("--payload-size {}: the range must be 1 <= N <= M", text);
    if (*max > kMaxPayloadSize)
        return fmt::format("--payload-size {}: at most {} bytes (16M)", text, kMaxPayloadSize);
    return PayloadSize{*min, *max};
}

std::size_t smallest_payload(PayloadFormat format, std::size_t run_id_length,
                             std::size_t device_id_length, Envelope envelope) {
    // The longest reading of schema v1: every number at its widest, every optional field.
    const Reading widest{std::string(run_id_length, 'r'),
                         std::string(device_id_length, 'd'),
                         std::numeric_limits<std::uint64_t>::max(),
                         std::numeric_limits<std::int64_t>::max(),
                         -273.15,
                         100.0,
                         2000.0,
                         100.0,
                         SensorFault::Dropout,
                         true};
    std::size_t body = 0;  // beside user properties, the body alone
    if (const auto kind = structured_kind(format)) {
        std::string out;
        append_structured_body(*kind, widest, {}, out);
        body = out.size();
    }
    if (envelope == Envelope::Properties && format != PayloadFormat::Json)
        return format == PayloadFormat::Binary ? kPackedReadingSize
                                               : std::max<std::size_t>(body, 1);
    switch (format) {
        case PayloadFormat::Protobuf:
        case PayloadFormat::Cbor:
        case PayloadFormat::MessagePack:
            return envelope_size(run_id_length, device_id_length, body);
        case PayloadFormat::Binary:
            return envelope_size(run_id_length, device_id_length, kPackedReadingSize);
        case PayloadFormat::Random:
        case PayloadFormat::Template:
        case PayloadFormat::File:
            return envelope_size(run_id_length, device_id_length, 0);
        case PayloadFormat::Json:
            break;
    }
    std::string out;
    return encode_reading(widest, out).size();
}

}  // namespace telemetry

#include "telemetry/payload_encoder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "telemetry/envelope.hpp"
#include "telemetry/splitmix64.hpp"
#include "telemetry/structured_body.hpp"

namespace telemetry {
namespace {

// Appends n bytes of the stream: the random format's body and the packed reading's filler.
void append_random(std::uint64_t state, std::size_t n, std::string& out) {
    SplitMix64 random(state);
    const std::size_t from = out.size();
    out.resize(from + n);
    char* p = out.data() + from;
    for (std::size_t i = 0; i < n; i += 8) {
        const std::uint64_t word = random();
        std::memcpy(p + i, &word, std::min<std::size_t>(8, n - i));
    }
}

// Appends n characters of [a-z0-9] from the stream: JSON padding that reads as text.
void append_text(std::uint64_t state, std::size_t n, std::string& out) {
    static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    SplitMix64 random(state);
    std::uint64_t word = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (i % 8 == 0) word = random();
        out.push_back(kAlphabet[(word & 0xFF) % 36]);
        word >>= 8;
    }
}

// ,"pad":"" costs 9 bytes: smaller gaps are filled with spaces, which JSON allows there.
constexpr std::size_t kPadFieldSize = 9;

// Random bytes without --payload-size: the size of a typical JSON reading.
constexpr std::size_t kDefaultRandomPayload = 150;

}  // namespace

PayloadEncoder::PayloadEncoder(PayloadSpec spec, std::uint64_t seed)
    : spec_(std::move(spec)), seed_(seed) {
    if (spec_.format == PayloadFormat::Template) {
        auto compiled = PayloadTemplate::compile(spec_.template_text);
        if (auto* problem = std::get_if<std::string>(&compiled))
            throw std::invalid_argument("--payload-template: " + *problem);
        template_ = std::get<PayloadTemplate>(std::move(compiled));
    }
    if (spec_.format == PayloadFormat::File && (!spec_.files || spec_.files->empty()))
        throw std::invalid_argument("--payload-format file needs the bytes of at least one file");
}

BodyKind PayloadEncoder::body_kind() const {
    if (const auto kind = structured_kind(spec_.format)) return *kind;
    if (spec_.format == PayloadFormat::Binary) return BodyKind::SensorReading;
    return spec_.format == PayloadFormat::Template ? BodyKind::Varying : BodyKind::Opaque;
}

void PayloadEncoder::append_body(const Reading& r, std::size_t size, std::string& out) const {
    switch (spec_.format) {
        case PayloadFormat::Template:
            template_->render(r, stream_seed(r), out);
            return;
        case PayloadFormat::File:
            out += (*spec_.files)[(r.seq - 1) % spec_.files->size()];  // each device in turn
            return;
        case PayloadFormat::Binary: {
            const std::size_t from = out.size();
            append_packed_reading(r, out);
            append_random(stream_seed(r), size - std::min(size, out.size() - from), out);
            return;
        }
        case PayloadFormat::Protobuf:
        case PayloadFormat::Cbor:
        case PayloadFormat::MessagePack:
            append_structured(r, size, out);
            return;
        default:
            append_random(stream_seed(r), size, out);
    }
}

void PayloadEncoder::append_structured(const Reading& r, std::size_t size, std::string& out) const {
    const BodyKind kind = body_kind();
    const std::size_t from = out.size();
    append_structured_body(kind, r, {}, out);
    const std::size_t pad = structured_pad_length(kind, out.size() - from, size);
    if (pad == 0) return;
    thread_local std::string filler;  // the body again, now with its filler
    filler.clear();
    append_text(stream_seed(r), pad, filler);
    out.resize(from);
    append_structured_body(kind, r, filler, out);
}

std::uint64_t PayloadEncoder::stream_seed(const Reading& r) const {
    std::uint64_t h = 0xCBF29CE484222325u;  // FNV-1a over the run and device ids
    for (const std::string_view id : {std::string_view(r.run), std::string_view(r.device)})
        for (const char c : id) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3u;
    return SplitMix64(seed_ ^ h)() ^ r.seq;
}

std::size_t PayloadEncoder::size_of(const Reading& r) const {
    const PayloadSize& s = spec_.size;
    if (!s.given() || s.min == s.max) return s.max;
    return s.min + static_cast<std::size_t>(SplitMix64(stream_seed(r))() % (s.max - s.min + 1));
}

std::string_view PayloadEncoder::encode(const Reading& r, std::string& out) {
    const std::size_t size = size_of(r);
    if (spec_.format == PayloadFormat::Json)
        encode_json(r, size, out);
    else if (spec_.envelope == Envelope::Properties)
        encode_bare(r, size, out);
    else
        encode_enveloped(r, size, out);
    return out;
}

void PayloadEncoder::encode_bare(const Reading& r, std::size_t size, std::string& out) {
    if (size == 0 && spec_.format == PayloadFormat::Binary) size = kPackedReadingSize;
    if (size == 0 && spec_.format == PayloadFormat::Random) size = kDefaultRandomPayload;
    out.clear();
    append_body(r, size, out);
    properties_.write(r, body_kind(), out);
}

void PayloadEncoder::encode_json(const Reading& r, std::size_t size, std::string& out) const {
    encode_reading(r, out);
    if (size <= out.size()) return;
    const std::size_t gap = size - out.size();
    out.erase(out.size() - kCrcSuffixSize);
    if (gap > kPadFieldSize) {
        out += R"(,"pad":")";
        append_text(stream_seed(r), gap - kPadFieldSize, out);
        out += '"';
    } else {
        out.append(gap, ' ');
    }
    out += fmt::format(R"(,"crc":"{:08x}"}})", payload_crc(out));
}

void PayloadEncoder::encode_enveloped(const Reading& r, std::size_t size, std::string& out) const {
    const bool packed = spec_.format == PayloadFormat::Binary;
    if (size == 0 && spec_.format == PayloadFormat::Random) size = kDefaultRandomPayload;
    const std::size_t header = envelope_size(r.run.size(), r.device.size(), 0) - 4;
    // A template's or a file's body sets its own size; sealing writes the length.
    const std::size_t body =
        size == 0 ? 0 : std::max(size, header + 4 + (packed ? kPackedReadingSize : 0)) - header - 4;
    open_envelope(r, body_kind(), 0, out);
    append_body(r, body, out);
    seal_envelope(out);
}

DecodedReading decode_payload(std::string_view payload, std::span<const KeyValue> properties) {
    if (!properties.empty() && has_property_envelope(properties))
        return decode_property_envelope(payload, properties);
    if (is_envelope(payload)) return decode_envelope(payload);
    return decode_reading(payload);
}

}  // namespace telemetry

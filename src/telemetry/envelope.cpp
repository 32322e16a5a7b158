#include "telemetry/envelope.hpp"

#include <fmt/format.h>

#include <cmath>

#include <zlib.h>

#include "telemetry/structured_body.hpp"

namespace telemetry {
namespace {

template <typename T>
void put_big_endian(std::string& out, T value) {
    for (int shift = (sizeof(T) - 1) * 8; shift >= 0; shift -= 8)
        out.push_back(static_cast<char>((static_cast<std::uint64_t>(value) >> shift) & 0xFF));
}

void put_id(std::string& out, std::string_view id) {
    out.push_back(static_cast<char>(id.size()));
    out.append(id);
}

std::int64_t hundredths(double value) {
    return std::llround(value * 100.0);
}

// Reads big-endian integers and length-prefixed ids from the front of a payload.
class BigEndianReader {
  public:
    explicit BigEndianReader(std::string_view in) : in_(in) {}
    template <typename T>
    T get() {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < sizeof(T); ++i)
            v = (v << 8) | static_cast<unsigned char>(in_[pos_ + i]);
        pos_ += sizeof(T);
        return static_cast<T>(v);
    }
    // The id, or empty when it does not fit or breaks the id rule.
    std::string_view id() {
        if (left() < 1) return {};
        const std::size_t n = get<std::uint8_t>();
        if (left() < n) return {};
        const std::string_view id = in_.substr(pos_, n);
        pos_ += n;
        return is_plain_identifier(id) ? id : std::string_view{};
    }
    std::size_t left() const { return in_.size() - pos_; }
    std::size_t position() const { return pos_; }

  private:
    std::string_view in_;
    std::size_t pos_{0};
};

DecodedReading bad_envelope(std::string reason, DecodeProblem problem = DecodeProblem::Malformed) {
    return {std::nullopt, std::move(reason), problem};
}

// An opaque body's content: two independent checksums of its bytes, never 0.
std::uint64_t body_digest(std::string_view body) {
    const auto* bytes = reinterpret_cast<const Bytef*>(body.data());
    const std::uint64_t adler = adler32_z(1, bytes, body.size());
    return (static_cast<std::uint64_t>(crc32_z(0, bytes, body.size())) << 32 | adler) | 1;
}

// The checksum and the length: what decides between corrupt and malformed.
std::optional<DecodedReading> check_whole(std::string_view payload) {
    constexpr std::size_t kSmallest = kEnvelopeFixedSize + 2;
    if (payload.size() < kSmallest)
        return bad_envelope(fmt::format("a binary envelope has at least {} bytes, this one {}",
                                        kSmallest, payload.size()));
    BigEndianReader header(payload.substr(4));
    const auto declared = header.get<std::uint32_t>();
    BigEndianReader tail(payload.substr(payload.size() - 4));
    const auto announced = tail.get<std::uint32_t>();
    const std::uint32_t actual = payload_crc(payload.substr(0, payload.size() - 4));
    // A truncated or extended message fails its checksum too; its length field tells it apart.
    if (declared != payload.size())
        return bad_envelope(
            fmt::format("the envelope says {} bytes, the message has {}: truncated or "
                        "extended",
                        declared, payload.size()));
    if (announced != actual)
        return bad_envelope(
            fmt::format("checksum mismatch: crc {:08x}, content {:08x}", announced, actual),
            DecodeProblem::Corrupt);
    return std::nullopt;
}

std::optional<std::string> read_packed(std::string_view body, Reading& r) {
    if (body.size() < kPackedReadingSize)
        return fmt::format("a packed reading has {} bytes, this body {}", kPackedReadingSize,
                           body.size());
    BigEndianReader in(body);
    r.temperature_c = static_cast<double>(in.get<std::int32_t>()) / 100.0;
    r.humidity_pct = static_cast<double>(in.get<std::uint16_t>()) / 100.0;
    r.pressure_hpa = static_cast<double>(in.get<std::uint32_t>()) / 100.0;
    r.battery_pct = static_cast<double>(in.get<std::uint16_t>()) / 100.0;
    const auto fault = in.get<std::uint8_t>();
    const auto flags = in.get<std::uint8_t>();
    if (fault > static_cast<std::uint8_t>(SensorFault::Dropout))
        return std::string("fault must be 0-3 (none, stuck, spike, dropout)");
    if ((flags & ~1u) != 0) return std::string("flags other than bit 0 must be 0");
    if (r.temperature_c < -273.15 || r.temperature_c > 1000.0 || r.humidity_pct > 100.0 ||
        r.pressure_hpa > 2000.0 || r.battery_pct > 100.0)
        return std::string("a value is out of its range (docs/reference.md)");
    r.fault = static_cast<SensorFault>(fault);
    r.battery_low = (flags & 1u) != 0;
    return std::nullopt;
}

constexpr std::string_view kBodyKindNames[] = {"opaque",   "reading", "varying",
                                               "protobuf", "cbor",    "msgpack"};

}  // namespace

std::string_view body_kind_name(BodyKind kind) {
    return kBodyKindNames[static_cast<std::size_t>(kind)];
}

std::optional<BodyKind> parse_body_kind(std::string_view name) {
    for (std::uint8_t k = 0; k <= kLastBodyKind; ++k)
        if (name == kBodyKindNames[k]) return static_cast<BodyKind>(k);
    return std::nullopt;
}

void open_envelope(const Reading& r, BodyKind kind, std::size_t total, std::string& out) {
    out.clear();
    out.append("MT");
    put_big_endian(out, kEnvelopeVersion);
    put_big_endian(out, static_cast<std::uint8_t>(kind));
    put_big_endian(out, static_cast<std::uint32_t>(total));
    put_id(out, r.run);
    put_id(out, r.device);
    put_big_endian(out, r.seq);
    put_big_endian(out, static_cast<std::uint64_t>(r.ts_us));
}

void append_packed_reading(const Reading& r, std::string& out) {
    put_big_endian(
        out, static_cast<std::uint32_t>(static_cast<std::int32_t>(hundredths(r.temperature_c))));
    put_big_endian(out, static_cast<std::uint16_t>(hundredths(r.humidity_pct)));
    put_big_endian(out, static_cast<std::uint32_t>(hundredths(r.pressure_hpa)));
    put_big_endian(out, static_cast<std::uint16_t>(hundredths(r.battery_pct)));
    put_big_endian(out, static_cast<std::uint8_t>(r.fault));
    put_big_endian(out, static_cast<std::uint8_t>(r.battery_low ? 1 : 0));
}

void seal_envelope(std::string& out) {
    if (out.compare(4, 4, std::string_view("\0\0\0\0", 4)) == 0) {
        const auto total = static_cast<std::uint32_t>(out.size() + 4);
        for (std::size_t i = 0; i < 4; ++i)
            out[4 + i] = static_cast<char>((total >> (8 * (3 - i))) & 0xFF);
    }
    put_big_endian(out, payload_crc(out));
}

DecodedReading decode_envelope(std::string_view payload) {
    if (!is_envelope(payload)) return bad_envelope("a binary envelope starts with \"MT\"");
    if (auto problem = check_whole(payload)) return std::move(*problem);
    BigEndianReader in(payload.substr(0, payload.size() - 4));
    in.get<std::uint16_t>();
    if (in.get<std::uint8_t>() != kEnvelopeVersion)
        return bad_envelope("envelope version must be 1");
    const auto kind = in.get<std::uint8_t>();
    if (kind > kLastBodyKind)
        return bad_envelope(
            "body kind must be 0 (opaque), 1 (sensor reading), 2 (varying), 3 (protobuf), "
            "4 (CBOR) or 5 (MessagePack)");
    in.get<std::uint32_t>();
    Reading r;
    r.run = in.id();
    if (r.run.empty()) return bad_envelope("run id must be 1-64 characters [A-Za-z0-9._-]");
    r.device = in.id();
    if (r.device.empty()) return bad_envelope("device id must be 1-64 characters [A-Za-z0-9._-]");
    if (in.left() < 16)
        return bad_envelope("the envelope ends before its sequence number and time");
    r.seq = in.get<std::uint64_t>();
    r.ts_us = static_cast<std::int64_t>(in.get<std::uint64_t>());
    if (r.seq == 0) return bad_envelope("sequence number must be >= 1");
    if (r.ts_us <= 0) return bad_envelope("send time must be > 0 microseconds since the epoch");
    return read_body(std::move(r), static_cast<BodyKind>(kind),
                     payload.substr(in.position(), in.left()));
}

DecodedReading read_body(Reading r, BodyKind kind, std::string_view body) {
    const auto read = [&]() -> DecodedReading {
        if (kind == BodyKind::Opaque)
            return {std::move(r), {}, DecodeProblem::None, body_digest(body), false};
        if (kind == BodyKind::Varying) return {std::move(r), {}, DecodeProblem::None, 0, false};
        auto problem =
            is_structured(kind) ? read_structured_body(kind, body, r) : read_packed(body, r);
        if (problem) return bad_envelope(std::move(*problem));
        const std::uint64_t content = content_digest(r);
        return {std::move(r), {}, DecodeProblem::None, content};
    };
    DecodedReading decoded = read();
    decoded.json = false;
    decoded.body = body;
    return decoded;
}

std::string_view envelope_body(std::string_view payload) {
    const std::size_t run = static_cast<unsigned char>(payload[8]);
    const std::size_t device = static_cast<unsigned char>(payload[9 + run]);
    const std::size_t header = kEnvelopeFixedSize - 4 + run + device;
    return payload.substr(header, payload.size() - header - 4);
}

}  // namespace telemetry

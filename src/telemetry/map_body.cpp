// The reading as a CBOR or MessagePack map, with nlohmann/json's encoders and its SAX parser.
// The parser reads the map's fields straight into a Reading: no document is built, and a
// nesting deeper than the reading's own is refused before it can exhaust the stack.
#include <nlohmann/json.hpp>

#include <cmath>
#include <vector>

#include "telemetry/structured_body.hpp"

namespace telemetry {
namespace {

using Json = nlohmann::ordered_json;

// The fields a body must have, one bit each.
enum MapField : unsigned {
    kFieldDev = 1,
    kFieldSeq = 2,
    kFieldTs = 4,
    kFieldTemp = 8,
    kFieldHum = 16,
    kFieldPres = 32,
    kFieldBatt = 64,
    kAllFields = 127
};

class ReadingFields final : public nlohmann::json_sax<Json> {
  public:
    explicit ReadingFields(Reading& into) : r_(into) {}

    std::optional<std::string> problem() {
        if (problem_) return problem_;
        for (const auto& [bit, name] : {std::pair{kFieldDev, "dev"},
                                        {kFieldSeq, "seq"},
                                        {kFieldTs, "ts"},
                                        {kFieldTemp, "temp"},
                                        {kFieldHum, "hum"},
                                        {kFieldPres, "pres"},
                                        {kFieldBatt, "batt"}})
            if ((seen_ & bit) == 0) return fmt_missing(name);
        return std::nullopt;
    }

    bool null() override { return scalar(); }
    bool boolean(bool value) override {
        if (at_field("batt_low")) r_.battery_low = value;
        return scalar();
    }
    bool number_integer(number_integer_t value) override {
        if (at_field("ts") && value > 0) return set_ts(value);
        if (at_field("seq") && value > 0) return set_seq(static_cast<std::uint64_t>(value));
        return number(static_cast<double>(value));
    }
    bool number_unsigned(number_unsigned_t value) override {
        if (at_field("ts") && value <= static_cast<std::uint64_t>(INT64_MAX))
            return set_ts(static_cast<std::int64_t>(value));
        if (at_field("seq") && value > 0) return set_seq(value);
        return number(static_cast<double>(value));
    }
    bool number_float(number_float_t value, const string_t& /*text*/) override {
        return number(value);
    }
    bool string(string_t& value) override {
        if (at_field("dev")) {
            if (!is_plain_identifier(value))
                return fail(R"("dev" must be an identifier of 1-64 characters [A-Za-z0-9._-])");
            r_.device = value;
            seen_ |= kFieldDev;
        } else if (at_field("fault")) {
            for (const auto f : {SensorFault::Stuck, SensorFault::Spike, SensorFault::Dropout})
                if (value == fault_name(f)) r_.fault = f;
            if (r_.fault == SensorFault::None)
                return fail(R"("fault" must be "stuck", "spike" or "dropout")");
        }
        return scalar();
    }
    bool binary(binary_t& /*value*/) override { return scalar(); }
    bool start_object(std::size_t /*elements*/) override { return open(); }
    bool key(string_t& value) override {
        key_ = value;
        return true;
    }
    bool end_object() override { return close(); }
    bool start_array(std::size_t /*elements*/) override {
        if (depth_ == 0) return fail("not a map");
        return open();
    }
    bool end_array() override { return close(); }
    bool parse_error(std::size_t position, const std::string& /*last_token*/,
                     const nlohmann::detail::exception& /*error*/) override {
        return fail("not a valid body: the encoding breaks at byte " + std::to_string(position));
    }

  private:
    static std::string fmt_missing(const char* name) {
        return std::string("the body has no \"") + name + "\" of the right type";
    }
    bool at_field(std::string_view name) const { return depth_ == 1 && key_ == name; }
    bool fail(std::string reason) {
        if (!problem_) problem_ = std::move(reason);
        return false;
    }
    bool scalar() { return depth_ > 0 || fail("not a map"); }
    bool open() {
        // The reading is one flat map; a little nesting is tolerated inside unknown fields.
        if (++depth_ > 4) return fail("the body nests more than 4 levels deep");
        return true;
    }
    bool close() {
        --depth_;
        return true;
    }
    bool set_ts(std::int64_t value) {
        r_.ts_us = value;
        seen_ |= kFieldTs;
        return true;
    }
    bool set_seq(std::uint64_t value) {
        r_.seq = value;
        seen_ |= kFieldSeq;
        return true;
    }
    bool number(double value) {
        if (depth_ != 1) return scalar();
        for (const auto& [name, bit, target] : {std::tuple{"temp", kFieldTemp, &r_.temperature_c},
                                                {"hum", kFieldHum, &r_.humidity_pct},
                                                {"pres", kFieldPres, &r_.pressure_hpa},
                                                {"batt", kFieldBatt, &r_.battery_pct}})
            if (key_ == name) {
                *target = value;
                seen_ |= bit;
            }
        return true;
    }

    Reading& r_;
    std::string key_;
    unsigned depth_{0};
    unsigned seen_{0};
    std::optional<std::string> problem_;
};

}  // namespace

void append_map_body(BodyKind kind, const Reading& r, std::string_view pad, std::string& out) {
    Json j;
    j["dev"] = r.device;
    j["seq"] = r.seq;
    j["ts"] = r.ts_us;
    j["temp"] = rounded_to_hundredths(r.temperature_c);
    j["hum"] = rounded_to_hundredths(r.humidity_pct);
    j["pres"] = rounded_to_hundredths(r.pressure_hpa);
    j["batt"] = rounded_to_hundredths(r.battery_pct);
    if (r.fault != SensorFault::None) j["fault"] = fault_name(r.fault);
    if (r.battery_low) j["batt_low"] = true;
    if (!pad.empty()) j["pad"] = Json::binary(std::vector<std::uint8_t>(pad.begin(), pad.end()));
    if (kind == BodyKind::Cbor)
        Json::to_cbor(j, out);
    else
        Json::to_msgpack(j, out);
}

std::optional<std::string> decode_map_body(BodyKind kind, std::string_view body, Reading& into) {
    ReadingFields fields(into);
    const auto format = kind == BodyKind::Cbor ? nlohmann::json::input_format_t::cbor
                                               : nlohmann::json::input_format_t::msgpack;
    if (body.empty()) return std::string("not a map: the body is empty");
    Json::sax_parse(body.begin(), body.end(), &fields, format, /*strict=*/true);
    return fields.problem();
}

}  // namespace telemetry

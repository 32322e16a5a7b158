#include "telemetry/payload_template.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <utility>

#include "telemetry/splitmix64.hpp"

namespace telemetry {
namespace {

bool parse_double(std::string_view text, double& value) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc{} && end == text.data() + text.size() && !text.empty() &&
           std::isfinite(value);
}

// "A:B" into low and high, or false.
bool parse_range(std::string_view args, double& low, double& high) {
    const auto colon = args.find(':');
    return colon != std::string_view::npos && parse_double(args.substr(0, colon), low) &&
           parse_double(args.substr(colon + 1), high) && low <= high;
}

void append_hundredths(std::string& out, double value) {
    fmt::format_to(std::back_inserter(out), "{:.2f}", value);
}

}  // namespace

std::variant<PayloadTemplate::Part, std::string> PayloadTemplate::parse_field(
    std::string_view name) {
    static const std::pair<std::string_view, Field> kPlain[] = {{"run", Field::Run},
                                                                {"device", Field::Device},
                                                                {"seq", Field::Seq},
                                                                {"ts", Field::Ts},
                                                                {"ts_ms", Field::TsMs},
                                                                {"temp", Field::Temp},
                                                                {"hum", Field::Hum},
                                                                {"pres", Field::Pres},
                                                                {"batt", Field::Batt},
                                                                {"rand_int", Field::RandInt},
                                                                {"rand_float", Field::RandFloat}};
    for (const auto& [key, field] : kPlain)
        if (name == key) {
            Part part{field, {}, 0, 0, 0};
            if (field == Field::RandInt) part.high = 2147483647.0;
            if (field == Field::RandFloat) part.high = 1.0;
            return part;
        }
    const auto colon = name.find(':');
    const std::string_view head = name.substr(0, colon);
    const std::string_view args = colon == std::string_view::npos ? "" : name.substr(colon + 1);
    Part part;
    if ((head == "rand_int" || head == "rand_float") && parse_range(args, part.low, part.high)) {
        part.field = head == "rand_int" ? Field::RandInt : Field::RandFloat;
        if (part.field == Field::RandInt &&
            (part.low != std::floor(part.low) || part.high != std::floor(part.high) ||
             part.high - part.low > 9e15))
            return fmt::format("${{{}}}: rand_int takes whole numbers A:B", name);
        return part;
    }
    if (head == "rand_hex") {
        const auto [end, ec] = std::from_chars(args.data(), args.data() + args.size(), part.digits);
        if (ec == std::errc{} && end == args.data() + args.size() && part.digits >= 1 &&
            part.digits <= 4096) {
            part.field = Field::RandHex;
            return part;
        }
        return fmt::format("${{{}}}: rand_hex takes a digit count of 1-4096", name);
    }
    if (head == "rand_int" || head == "rand_float")
        return fmt::format("${{{}}}: expected {}:A:B with A <= B", name, head);
    return fmt::format(
        "unknown field ${{{}}} (fields: run, device, seq, ts, ts_ms, temp, hum, pres, "
        "batt, rand_int, rand_float, rand_hex:N; $${{ for a literal ${{)",
        name);
}

std::variant<PayloadTemplate, std::string> PayloadTemplate::compile(std::string_view text) {
    PayloadTemplate t;
    std::string literal;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text.substr(i, 3) == "$${") {  // a literal ${
            literal += "${";
            i += 2;
            continue;
        }
        if (text.substr(i, 2) != "${") {
            literal += text[i];
            continue;
        }
        const std::size_t close = text.find('}', i);
        if (close == std::string_view::npos)
            return fmt::format("a field opened at byte {} is not closed", i);
        auto field = parse_field(text.substr(i + 2, close - i - 2));
        if (auto* problem = std::get_if<std::string>(&field)) return *problem;
        if (!literal.empty())
            t.parts_.push_back({Field::Text, std::exchange(literal, {}), 0, 0, 0});
        t.parts_.push_back(std::get<Part>(std::move(field)));
        i = close;
    }
    if (!literal.empty()) t.parts_.push_back({Field::Text, std::move(literal), 0, 0, 0});
    if (t.parts_.empty()) return std::string("the template is empty");
    return t;
}

void PayloadTemplate::render(const Reading& r, std::uint64_t stream, std::string& out) const {
    SplitMix64 random(stream);
    const auto to = std::back_inserter(out);
    for (const Part& p : parts_) {
        switch (p.field) {
            case Field::Text:
                out += p.text;
                break;
            case Field::Run:
                out += r.run;
                break;
            case Field::Device:
                out += r.device;
                break;
            case Field::Seq:
                fmt::format_to(to, "{}", r.seq);
                break;
            case Field::Ts:
                fmt::format_to(to, "{}", r.ts_us);
                break;
            case Field::TsMs:
                fmt::format_to(to, "{}", r.ts_us / 1000);
                break;
            case Field::Temp:
                append_hundredths(out, r.temperature_c);
                break;
            case Field::Hum:
                append_hundredths(out, r.humidity_pct);
                break;
            case Field::Pres:
                append_hundredths(out, r.pressure_hpa);
                break;
            case Field::Batt:
                append_hundredths(out, r.battery_pct);
                break;
            case Field::RandInt: {
                const auto span = static_cast<std::uint64_t>(p.high - p.low) + 1;
                fmt::format_to(
                    to, "{}",
                    static_cast<std::int64_t>(p.low) + static_cast<std::int64_t>(random() % span));
                break;
            }
            case Field::RandFloat: {
                const double unit = random.uniform();
                fmt::format_to(to, "{:.4f}", p.low + unit * (p.high - p.low));
                break;
            }
            case Field::RandHex:
                for (std::size_t d = 0; d < p.digits; ++d) out += "0123456789abcdef"[random() & 15];
                break;
        }
    }
}

}  // namespace telemetry

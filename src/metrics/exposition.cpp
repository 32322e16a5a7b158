#include "metrics/exposition.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace metrics {

const std::vector<double>& Exposition::latency_bounds() {
    static const std::vector<double> bounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                            0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                            1.0,    2.5,     5.0,    10.0,  30.0};
    return bounds;
}

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (const char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string format_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    if (value == std::floor(value) && std::fabs(value) < 9e15)
        return fmt::format("{}", static_cast<std::int64_t>(value));
    return fmt::format("{}", value);  // shortest round-trip form
}

void Exposition::family(std::string_view name, std::string_view help, std::string_view type) {
    // HELP text escapes backslash and line feed only.
    std::string escaped;
    for (const char c : help) escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
    text_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escaped, name, type);
}

void Exposition::sample(std::string_view name, const Labels& labels, std::string_view value) {
    text_ += name;
    if (!labels.empty()) {
        text_ += '{';
        for (std::size_t i = 0; i < labels.size(); ++i) {
            if (i > 0) text_ += ',';
            text_ +=
                fmt::format("{}=\"{}\"", labels[i].first, escape_label_value(labels[i].second));
        }
        text_ += '}';
    }
    text_ += fmt::format(" {}\n", value);
}

void Exposition::counter(std::string_view name, std::string_view help, std::uint64_t value) {
    family(name, help, "counter");
    sample(name, {}, fmt::format("{}", value));
}

void Exposition::counter(std::string_view name, std::string_view help, double value) {
    family(name, help, "counter");
    sample(name, {}, format_value(value));
}

void Exposition::gauge(std::string_view name, std::string_view help, double value,
                       const Labels& labels) {
    family(name, help, "gauge");
    sample(name, labels, format_value(value));
}

void Exposition::histogram(std::string_view name, std::string_view help,
                           const telemetry::LatencyHistogram& latency_us) {
    const std::vector<double>& bounds = latency_bounds();
    std::vector<std::uint64_t> in_bucket(bounds.size() + 1, 0);  // last: above every bound
    for (const auto& b : latency_us.buckets()) {
        const auto at = std::find_if(bounds.begin(), bounds.end(), [&](double bound) {
            return static_cast<double>(b.to) <= bound * 1e6;
        });
        in_bucket[static_cast<std::size_t>(at - bounds.begin())] += b.count;
    }
    family(name, help, "histogram");
    const std::string bucket = std::string(name) + "_bucket";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        cumulative += in_bucket[i];
        sample(bucket, {{"le", format_value(bounds[i])}}, fmt::format("{}", cumulative));
    }
    sample(bucket, {{"le", "+Inf"}}, fmt::format("{}", latency_us.count()));
    sample(std::string(name) + "_sum", {},
           format_value(static_cast<double>(latency_us.sum()) / 1e6));
    sample(std::string(name) + "_count", {}, fmt::format("{}", latency_us.count()));
}

}  // namespace metrics

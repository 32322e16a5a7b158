#pragma once
// The Prometheus text exposition format (version 0.0.4): what a /metrics endpoint answers.
// https://prometheus.io/docs/instrumenting/exposition_formats/
// Pure: the programs fill one Exposition per scrape from their counters.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "telemetry/latency_histogram.hpp"

namespace metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Exposition {
  public:
    // Upper bounds (seconds) of the latency histograms' buckets: 100 µs to 30 s, the span
    // between a loopback run and a broker that stalls.
    static const std::vector<double>& latency_bounds();

    // Each metric family once: HELP and TYPE, then its sample. Names must match
    // [a-zA-Z_:][a-zA-Z0-9_:]*; a counter's name ends in _total.
    void counter(std::string_view name, std::string_view help, std::uint64_t value);
    void counter(std::string_view name, std::string_view help, double value);  // e.g. seconds
    void gauge(std::string_view name, std::string_view help, double value,
               const Labels& labels = {});
    // A histogram in seconds from one in microseconds: cumulative buckets at latency_bounds(),
    // +Inf, _sum and _count. A bucket counts the values whose histogram bucket lies wholly at or
    // below its bound (within the histogram's 0.4% resolution).
    void histogram(std::string_view name, std::string_view help,
                   const telemetry::LatencyHistogram& latency_us);

    const std::string& text() const { return text_; }

  private:
    void family(std::string_view name, std::string_view help, std::string_view type);
    void sample(std::string_view name, const Labels& labels, std::string_view value);

    std::string text_;
};

// A label value escaped as the format requires (backslash, double quote, line feed).
std::string escape_label_value(std::string_view value);
// A sample value: integers exactly, others with enough digits to round-trip.
std::string format_value(double value);

}  // namespace metrics

// The Prometheus text exposition format: counters, gauges, histograms, escaping, numbers.
#include "metrics/exposition.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using metrics::Exposition;

TEST(Exposition, CounterHasHelpTypeAndSample) {
    Exposition out;
    out.counter("x_total", "Things seen", std::uint64_t{42});
    EXPECT_EQ(out.text(), "# HELP x_total Things seen\n# TYPE x_total counter\nx_total 42\n");
}

TEST(Exposition, GaugeLabelValuesAreEscaped) {
    Exposition out;
    out.gauge("g", "A gauge", 1.5, {{"run", "a\"b\\c\nd"}});
    EXPECT_NE(out.text().find("g{run=\"a\\\"b\\\\c\\nd\"} 1.5\n"), std::string::npos) << out.text();
}

TEST(Exposition, HistogramBucketsAreCumulativeInSeconds) {
    telemetry::LatencyHistogram h;
    h.record(50);         // 50 µs
    h.record(800);        // 0.8 ms
    h.record(800);        //
    h.record(2'000'000);  // 2 s
    h.record(-5);         // clock skew: counts as 0
    Exposition out;
    out.histogram("lat_seconds", "Latency", h);
    const std::string& t = out.text();
    EXPECT_NE(t.find("# TYPE lat_seconds histogram\n"), std::string::npos);
    EXPECT_NE(t.find("lat_seconds_bucket{le=\"0.0001\"} 2\n"), std::string::npos) << t;
    EXPECT_NE(t.find("lat_seconds_bucket{le=\"0.0005\"} 2\n"), std::string::npos) << t;
    EXPECT_NE(t.find("lat_seconds_bucket{le=\"0.001\"} 4\n"), std::string::npos) << t;
    EXPECT_NE(t.find("lat_seconds_bucket{le=\"1\"} 4\n"), std::string::npos) << t;
    EXPECT_NE(t.find("lat_seconds_bucket{le=\"2.5\"} 5\n"), std::string::npos) << t;
    EXPECT_NE(t.find("lat_seconds_bucket{le=\"+Inf\"} 5\n"), std::string::npos) << t;
    EXPECT_NE(t.find("lat_seconds_count 5\n"), std::string::npos) << t;
    EXPECT_NE(t.find("lat_seconds_sum 2.00165\n"), std::string::npos) << t;
}

TEST(Exposition, ValuesAreIntegersWhenWholeAndRoundTripOtherwise) {
    EXPECT_EQ(metrics::format_value(3.0), "3");
    EXPECT_EQ(metrics::format_value(0.25), "0.25");
    EXPECT_EQ(metrics::format_value(1e300), "1e+300");
}
}  // namespace

// The per-second timeline both programs keep, as CSV.
#include "telemetry/timeline.hpp"

#include <gtest/gtest.h>

namespace telemetry {
namespace {

TEST(Timeline, CsvHasAHeaderAndOneLinePerSecond) {
    const std::vector<SubscriberSecond> rows{{1.0, 10, 10, 0, 0, 0, 10.0, 500, 900},
                                             {2.0, 30, 29, 1, 1, 0, 19.0, 600, 1200}};
    EXPECT_EQ(timeline_csv(rows),
              "t_s,received,unique,missing,duplicates,corrupt,msgs_per_sec,p50_us,p99_us\n"
              "1.000,10,10,0,0,0,10.0,500,900\n"
              "2.000,30,29,1,1,0,19.0,600,1200\n");
}
}  // namespace
}  // namespace telemetry

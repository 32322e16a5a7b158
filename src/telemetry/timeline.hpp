#pragma once
// The per-second timeline of a run, shared by both programs: one row per second with the
// cumulative counts the caller fills in, and the rate over that second computed here.

#include <chrono>
#include <cstdint>
#include <vector>

namespace telemetry {

// Row: a PublisherSecond or SubscriberSecond (telemetry/report.hpp): has t_s and msgs_per_sec.
template <typename Row>
class Timeline {
  public:
    using Clock = std::chrono::steady_clock;

    explicit Timeline(Clock::time_point start)
        : start_(start),
          started_epoch_s_(
              std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                  .count()),
          next_row_(start + kPeriod) {}

    // The start on the wall clock (seconds since 1970): merged reports of several processes
    // line their timelines up by it.
    double started_epoch_s() const { return started_epoch_s_; }

    // True once a second: time to add() a row.
    bool due(Clock::time_point now) const { return now >= next_row_; }
    // True at the end of a run when the time since the last row is long enough (0.25 s) for a
    // fair rate, or when there is no row yet.
    bool tail_due(Clock::time_point now) const {
        return rows_.empty() || seconds(now) - rows_.back().t_s >= 0.25;
    }
    // Appends `row` at `now`, with t_s and msgs_per_sec (the growth of `counter` since the last
    // row, per second) filled in.
    void add(Clock::time_point now, std::uint64_t counter, Row row) {
        row.t_s = seconds(now);
        const double dt = row.t_s - (rows_.empty() ? 0.0 : rows_.back().t_s);
        row.msgs_per_sec = dt > 0 ? static_cast<double>(counter - last_counter_) / dt : 0.0;
        last_counter_ = counter;
        rows_.push_back(row);
        while (next_row_ <= now) next_row_ += kPeriod;  // after a stall, no burst of rows
    }
    // The rate for progress lines: the last full second's; before the first, the average.
    double current_rate(Clock::time_point now, std::uint64_t counter) const {
        if (!rows_.empty()) return rows_.back().msgs_per_sec;
        const double s = seconds(now);
        return s > 0 ? static_cast<double>(counter) / s : 0.0;
    }
    double seconds(Clock::time_point now) const {
        return std::chrono::duration<double>(now - start_).count();
    }
    const std::vector<Row>& rows() const { return rows_; }

  private:
    static constexpr std::chrono::seconds kPeriod{1};
    Clock::time_point start_;
    double started_epoch_s_;
    Clock::time_point next_row_;
    std::uint64_t last_counter_{0};
    std::vector<Row> rows_;
};

}  // namespace telemetry

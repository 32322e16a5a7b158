#pragma once
// The reconnects of a run: one line on stderr each (when, why, how long the outage lasted,
// whether the broker kept our session) and one row each in the report.

#include <chrono>
#include <string>
#include <vector>

#include "app/console.hpp"
#include "mqtt/client.hpp"
#include "report/model.hpp"

namespace app {

class ReconnectLog {
  public:
    ReconnectLog(ProgressLine& progress, std::chrono::steady_clock::time_point started,
                 bool persistent_session)
        : progress_(progress), started_(started), persistent_(persistent_session) {}

    void record(const mqtt::Reconnection& r);
    std::vector<report::Reconnect> rows() const;
    std::size_t count() const { return rows_.size(); }

  private:
    struct Row {
        double t_s;
        mqtt::Reconnection reconnection;
    };
    ProgressLine& progress_;
    std::chrono::steady_clock::time_point started_;
    bool persistent_;
    std::vector<Row> rows_;
};

}  // namespace app

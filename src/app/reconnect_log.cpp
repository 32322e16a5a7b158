#include "app/reconnect_log.hpp"

#include <fmt/format.h>

namespace app {

void ReconnectLog::record(const mqtt::Reconnection& r) {
    const double t_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    rows_.push_back({t_s, r});
    const char* session = !persistent_        ? "clean session"
                          : r.session_present ? "session kept"
                                              : "the broker LOST our session and what it had "
                                                "queued for us";
    progress_.warn(
        fmt::format("reconnected at {:.1f} s after {:.1f} s ({} attempt{}; lost: {}); {}", t_s,
                    r.outage_s, r.attempts, r.attempts == 1 ? "" : "s", r.cause, session));
}

std::vector<report::Reconnect> ReconnectLog::rows() const {
    std::vector<report::Reconnect> list;
    list.reserve(rows_.size());
    for (const Row& row : rows_) {
        const mqtt::Reconnection& r = row.reconnection;
        list.push_back({row.t_s, r.cause, r.outage_s, r.attempts, r.session_present, {}});
    }
    return list;
}

}  // namespace app

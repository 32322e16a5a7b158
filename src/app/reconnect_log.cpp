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

nlohmann::json ReconnectLog::to_json() const {
    nlohmann::json rows = nlohmann::json::array();
    for (const Row& row : rows_)
        rows.push_back({{"t_s", row.t_s},
                        {"cause", row.reconnection.cause},
                        {"outage_s", row.reconnection.outage_s},
                        {"attempts", row.reconnection.attempts},
                        {"session_present", row.reconnection.session_present}});
    return rows;
}

}  // namespace app

#include "telemetry/verdict.hpp"

#include <fmt/format.h>

namespace telemetry {

Verdict judge(std::vector<std::string> checks, const std::vector<Ending>& endings) {
    Verdict v{std::move(checks), 0};
    for (const Ending& e : endings) {
        if (e.exit_status == 0) continue;
        if (v.exit_status == 0 || v.exit_status == kChecksFailed) v.exit_status = e.exit_status;
        if (!e.explained)
            v.failed.push_back(
                fmt::format("{} ended with exit status {} ({})", e.who, e.exit_status, e.reason));
    }
    if (v.exit_status == 0 && !v.failed.empty()) v.exit_status = kChecksFailed;
    return v;
}

}  // namespace telemetry

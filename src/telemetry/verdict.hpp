#pragma once
// The one place that decides "verified" [issue 23]: the subscriber at the end of its run,
// mqtt_report's merge of subscribers, its verdict over publishers and subscribers, and the HTML
// page all ask judge(). A run is verified when no check failed and nothing ended abnormally.

#include <string>
#include <vector>

namespace telemetry {

// How one program (or one member of a merge) ended.
struct Ending {
    std::string who;        // "the subscriber", "publisher shard-1.json"
    int exit_status{0};     // the program's exit status; 0: it ended normally
    std::string reason;     // its end reason ("broker-lost", "interrupted", …)
    bool explained{false};  // the failed checks already say why (no extra line)
};

struct Verdict {
    std::vector<std::string> failed;  // one readable line per failed check or abnormal ending
    // 0 verified; else the first abnormal ending's status, or 1 when only checks failed.
    int exit_status{0};
    bool verified() const { return exit_status == 0; }
};

inline constexpr int kChecksFailed = 1;  // the documented exit status "verification failed"

// `checks` are the failed checks (failed_checks() in telemetry/report.hpp, or as a report
// recorded them); each ending with a non-zero status fails the verdict too.
Verdict judge(std::vector<std::string> checks, const std::vector<Ending>& endings);

}  // namespace telemetry

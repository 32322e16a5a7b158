#include "app/run_end.hpp"

#include "app/exit_status.hpp"

namespace app {

std::string_view end_reason_name(EndReason reason) {
    switch (reason) {
        case EndReason::Complete:
            return "complete";
        case EndReason::Count:
            return "count";
        case EndReason::IdleTimeout:
            return "idle-timeout";
        case EndReason::ShareDone:
            return "share-done";
        case EndReason::Interrupted:
            return "interrupted";
        case EndReason::BrokerError:
            return "broker-error";
        case EndReason::ConnectionLost:
            return "connection-lost";
        case EndReason::LocalError:
            return "local-error";
        case EndReason::Rejected:
            return "rejected";
        case EndReason::NoSubscribers:
            return "no-subscribers";
        case EndReason::Unconfirmed:
            return "unconfirmed";
        case EndReason::BehindSchedule:
            return "behind-schedule";
        case EndReason::NoStart:
            return "no-start";
        case EndReason::StartMismatch:
            return "start-mismatch";
    }
    return "unknown";
}

int exit_status_for(EndReason reason) {
    switch (reason) {
        case EndReason::Complete:
        case EndReason::Count:
        case EndReason::IdleTimeout:
        case EndReason::ShareDone:
            return kSuccess;
        case EndReason::Interrupted:
            return kInterrupted;
        case EndReason::BrokerError:
        case EndReason::ConnectionLost:
        case EndReason::LocalError:
        case EndReason::NoStart:
            return kBrokerError;
        case EndReason::StartMismatch:
            return kUsageError;
        case EndReason::Rejected:
        case EndReason::NoSubscribers:
        case EndReason::Unconfirmed:
        case EndReason::BehindSchedule:
            return kVerificationFailed;
    }
    return kBrokerError;
}

}  // namespace app

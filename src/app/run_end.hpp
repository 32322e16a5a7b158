#pragma once
// How a run ended, and the one place where that becomes an exit status and a report field.

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "app/console.hpp"
#include "mqtt/error.hpp"
#include "state/state_dir.hpp"

namespace app {

enum class EndReason {
    Complete,        // everything sent and confirmed / the summary says all arrived
    Count,           // subscriber: --count unique messages arrived
    IdleTimeout,     // subscriber: --idle-timeout without a message
    ShareDone,       // subscriber in a --share-group: every summary in, then quiet
    Interrupted,     // SIGINT/SIGTERM
    BrokerError,     // connecting or subscribing failed
    ConnectionLost,  // an established connection went away
    LocalError,      // a local I/O failure (the event loop)
    Rejected,        // publisher: the broker refused messages (MQTT 5 reason codes)
    NoSubscribers,   // publisher, --require-subscribers: the broker had none for some messages
    Unconfirmed,     // publisher: confirmations outlasted --drain-timeout
    BehindSchedule,  // publisher: messages went out later than --max-schedule-lag-ms
    NoStart,         // publisher, --wait-for-start: the run's start never came
    StartMismatch,   // publisher, --wait-for-start: the start names another number of shards
};

struct RunEnd {
    EndReason reason{EndReason::Complete};
    std::string error;  // the one-line message, for errors
};

// The report's end_reason: "complete", "idle-timeout", "connection-lost", ...
std::string_view end_reason_name(EndReason reason);
// 0 for the ends that still need a verdict, 1 rejected/unconfirmed, 3 broker/connection/local
// errors, 130 interrupted (app/exit_status.hpp).
int exit_status_for(EndReason reason);

// A step that ends the run for a reason of its own, with its one-line message.
class RunEndError : public std::runtime_error {
  public:
    RunEndError(EndReason reason, const std::string& message)
        : std::runtime_error(message), reason_(reason) {}
    EndReason reason() const { return reason_; }

  private:
    EndReason reason_;
};

// Runs `step`; an exception becomes a RunEnd (an mqtt::Error as `on_mqtt_error`, anything else
// as LocalError), printed as one error line by the caller. Without one, returns nothing.
template <typename Step>
std::optional<RunEnd> guarded(EndReason on_mqtt_error, Step step) {
    try {
        step();
        return std::nullopt;
    } catch (const mqtt::Error& e) {
        return RunEnd{on_mqtt_error, e.what()};
    } catch (const RunEndError& e) {
        return RunEnd{e.reason(), e.what()};
    } catch (const std::exception& e) {
        return RunEnd{EndReason::LocalError, e.what()};
    }
}

// Runs `step` on a --state-dir; a state directory that cannot be used (locked, damaged, of
// other arguments) is printed as one error line and gives false: exit 2, nothing was sent.
template <typename Step>
bool state_usable(const std::string& program, Step step) {
    try {
        step();
        return true;
    } catch (const state::StateError& e) {
        print_error(program, e.what());
        return false;
    }
}

}  // namespace app

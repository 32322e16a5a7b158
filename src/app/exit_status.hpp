#pragma once
// Exit statuses shared by both programs (documented in --help and README.md).

namespace app {

enum ExitStatus : int {
    kSuccess = 0,             // success and verified
    kVerificationFailed = 1,  // missing/malformed messages, or unconfirmed publishes
    kUsageError = 2,          // bad flag or value; nothing was sent
    kBrokerError = 3,         // broker unreachable, refused, or connection lost
    kInterrupted = 130,       // SIGINT/SIGTERM, after a clean shutdown and a final report
};

inline constexpr const char* kExitStatusHelp =
    "Exit status:\n"
    "  0    success and verified\n"
    "  1    verification failed (missing, malformed or unconfirmed messages)\n"
    "  2    usage error (bad flag or value; nothing is sent)\n"
    "  3    broker unreachable, refused (bad credentials, not authorised) or connection lost\n"
    "  130  interrupted by SIGINT/SIGTERM (after a clean shutdown and a final report)\n";

}  // namespace app

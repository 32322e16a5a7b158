#pragma once
// SIGINT/SIGTERM become a flag the main loops poll, so shutdown happens in normal code
// (await confirmations, disconnect, write the report) rather than in a signal handler.

namespace app {

// Installs the handlers (without SA_RESTART, so a blocking poll returns early) and ignores
// SIGPIPE, which a broker closing the socket would otherwise turn into a silent death.
void install_stop_signals();
bool stop_requested();
int stop_signal();  // the signal received, 0 if none
// A second signal: stop waiting for confirmations at once (the first one drains).
bool stop_now_requested();
// Forgets the signals received so far: for a process that runs one run after another (tests).
void forget_stop_signals();

}  // namespace app

#include "app/signals.hpp"

#include <csignal>

namespace app {
namespace {
volatile std::sig_atomic_t g_signal = 0;
volatile std::sig_atomic_t g_count = 0;
extern "C" void on_stop_signal(int sig) {
    g_signal = sig;
    if (g_count < 2) g_count = g_count + 1;
}
}  // namespace

void install_stop_signals() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

bool stop_requested() {
    return g_signal != 0;
}
int stop_signal() {
    return g_signal;
}
bool stop_now_requested() {
    return g_count >= 2;
}
void forget_stop_signals() {
    g_signal = 0;
    g_count = 0;
}

}  // namespace app

// A user-space netem: joins two TUN devices and forwards IP packets between them with loss,
// delay and jitter, for paths the kernel cannot impair here (this kernel has no sch_netem).
// The bench moves each TUN device into a network namespace of its own, so the programs on
// either side talk TCP over a real impaired link: lost segments are retransmitted by the kernel,
// jittered ones arrive out of order, as on a bad radio link.
// Usage: netem_link TUN_A TUN_B LOSS_PERCENT DELAY_MS JITTER_MS [SEED]
//   every packet, in each direction, is dropped with probability LOSS_PERCENT, else held for
//   DELAY_MS plus a uniform draw in [-JITTER_MS, +JITTER_MS] (at least 0), released in time order.
// Prints "netem_link: ready" once both devices exist; runs until SIGTERM or SIGINT.

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <queue>
#include <random>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t stop = 0;

void on_signal(int) {
    stop = 1;
}

// Owns the TUN descriptor; the device disappears with it.
class Tun {
  public:
    explicit Tun(const std::string& name) : fd_(::open("/dev/net/tun", O_RDWR | O_CLOEXEC)) {
        if (fd_ < 0) return;
        ifreq req{};
        req.ifr_flags = IFF_TUN | IFF_NO_PI;
        std::snprintf(req.ifr_name, IFNAMSIZ, "%s", name.c_str());
        if (::ioctl(fd_, TUNSETIFF, &req) != 0) {
            ::close(fd_);
            fd_ = -1;
            return;
        }
        ::fcntl(fd_, F_SETFL, O_NONBLOCK);
    }
    ~Tun() {
        if (fd_ >= 0) ::close(fd_);
    }
    Tun(const Tun&) = delete;  // one owner closes the device
    Tun& operator=(const Tun&) = delete;
    [[nodiscard]] int fd() const { return fd_; }

  private:
    int fd_;
};

struct Held {
    Clock::time_point due;
    std::uint64_t order;  // ties keep arrival order
    int to;
    std::vector<char> packet;
    bool operator>(const Held& o) const { return due != o.due ? due > o.due : order > o.order; }
};

struct Impairment {
    double loss;
    double delay_ms;
    double jitter_ms;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 6 || argc > 7) {
        std::fprintf(stderr,
                     "usage: netem_link TUN_A TUN_B LOSS_PERCENT DELAY_MS JITTER_MS [SEED]\n");
        return 2;
    }
    const Impairment imp{std::stod(argv[3]) / 100.0, std::stod(argv[4]), std::stod(argv[5])};
    std::mt19937_64 rng(argc == 7 ? std::stoull(argv[6]) : 1);
    std::uniform_real_distribution<double> unit(0.0, 1.0);

    const Tun a(argv[1]);
    const Tun b(argv[2]);
    if (a.fd() < 0 || b.fd() < 0) {
        std::fprintf(stderr, "netem_link: cannot create TUN devices %s and %s: %s\n", argv[1],
                     argv[2], std::strerror(errno));
        return 1;
    }
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    std::printf("netem_link: ready\n");
    std::fflush(stdout);

    std::priority_queue<Held, std::vector<Held>, std::greater<>> held;
    std::uint64_t order = 0;
    std::array<char, 65536> buf{};
    std::array<pollfd, 2> fds{pollfd{a.fd(), POLLIN, 0}, pollfd{b.fd(), POLLIN, 0}};
    while (stop == 0) {
        int timeout = 100;
        if (!held.empty()) {
            const auto wait =
                std::chrono::ceil<std::chrono::milliseconds>(held.top().due - Clock::now());
            timeout = static_cast<int>(std::clamp<long>(wait.count(), 0, 100));
        }
        if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) return 1;
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if ((fds[i].revents & POLLIN) == 0) continue;
            const int to = fds[1 - i].fd;
            for (;;) {
                const ssize_t n = ::read(fds[i].fd, buf.data(), buf.size());
                if (n <= 0) break;
                if (unit(rng) < imp.loss) continue;
                const double ms =
                    std::max(0.0, imp.delay_ms + imp.jitter_ms * (2.0 * unit(rng) - 1.0));
                held.push({Clock::now() + std::chrono::microseconds(static_cast<long>(ms * 1000)),
                           order++, to, std::vector<char>(buf.begin(), buf.begin() + n)});
            }
        }
        const auto now = Clock::now();
        while (!held.empty() && held.top().due <= now) {
            const Held& h = held.top();
            // A full device queue drops the packet, as a full router queue would.
            (void)!::write(h.to, h.packet.data(), h.packet.size());
            held.pop();
        }
    }
    return 0;
}

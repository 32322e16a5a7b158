// A small TCP fault proxy for the fault tests: forwards 127.0.0.1:LISTEN to 127.0.0.1:TARGET
// and applies the mode written in the control file (read when its content changes):
//   pass             forward as fast as possible
//   delay MS         hold every chunk MS milliseconds in each direction (added latency)
//   throttle BPS     at most BPS bytes per second in each direction (a slow link)
//   blackhole        forward nothing and answer nothing: a partition that keeps sockets open;
//                    connections accepted meanwhile are held, and closed when it ends
//   reset [TAG]      reset (RST) every connection now, then pass (TAG makes repeats a change)
// Usage: fault_proxy LISTEN_PORT TARGET_PORT CONTROL_FILE
// Single-threaded on poll(); prints "fault_proxy: listening" once it accepts connections.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Mode {
    enum Kind { Pass, Delay, Throttle, Blackhole } kind{Pass};
    long value{0};
};

int connect_to(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

void close_with_reset(int fd) {
    const linger l{1, 0};  // RST instead of FIN
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
}

// One direction of a connection: chunks waiting for their release time, then the socket.
struct Pipe {
    int to{-1};
    std::deque<std::pair<Clock::time_point, std::string>> queue;
    double tokens{0};
    Clock::time_point refilled{Clock::now()};

    // Something can be written now: a chunk is due and, throttled, a byte's worth of tokens
    // has built up. Only then is the socket polled for writing; a writable socket with nothing
    // to write would wake poll() at once, a busy loop.
    bool ready(const Mode& mode, Clock::time_point now) const {
        if (queue.empty() || queue.front().first > now) return false;
        if (mode.kind != Mode::Throttle) return true;
        const double elapsed = std::chrono::duration<double>(now - refilled).count();
        return tokens + static_cast<double>(mode.value) * elapsed >= 1.0;
    }

    // Writes what is due; false when the peer is gone.
    bool flush(const Mode& mode, Clock::time_point now) {
        if (mode.kind == Mode::Throttle) {
            const double rate = static_cast<double>(mode.value);
            tokens = std::min(
                rate / 10, tokens + rate * std::chrono::duration<double>(now - refilled).count());
            refilled = now;
        }
        while (!queue.empty() && queue.front().first <= now) {
            std::string& data = queue.front().second;
            std::size_t n = data.size();
            if (mode.kind == Mode::Throttle)
                n = std::min(n, static_cast<std::size_t>(std::max(0.0, tokens)));
            if (n == 0) return true;
            const ssize_t w = ::send(to, data.data(), n, MSG_NOSIGNAL);
            if (w < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
            if (mode.kind == Mode::Throttle) tokens -= static_cast<double>(w);
            data.erase(0, static_cast<std::size_t>(w));
            if (!data.empty()) return true;
            queue.pop_front();
        }
        return true;
    }
};

struct Link {
    int client{-1}, upstream{-1};
    Pipe up, down;     // client -> upstream, upstream -> client
    bool held{false};  // accepted during a blackhole, never connected upstream
    void close_all(bool reset) {
        for (int fd : {client, upstream})
            if (fd >= 0) reset ? close_with_reset(fd) : static_cast<void>(::close(fd));
        client = upstream = -1;
    }
};

Mode parse_mode(const std::string& text, bool& reset) {
    std::istringstream in(text);
    std::string word;
    in >> word;
    Mode m;
    reset = word == "reset";
    if (word == "delay") m = {Mode::Delay, 0};
    if (word == "throttle") m = {Mode::Throttle, 0};
    if (word == "blackhole") m = {Mode::Blackhole, 0};
    if (m.kind == Mode::Delay || m.kind == Mode::Throttle) in >> m.value;
    return m;
}

std::string read_control(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: fault_proxy LISTEN_PORT TARGET_PORT CONTROL_FILE\n");
        return 2;
    }
    const auto listen_port = static_cast<std::uint16_t>(std::stoi(argv[1]));
    const auto target_port = static_cast<std::uint16_t>(std::stoi(argv[2]));
    const std::string control = argv[3];

    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    const int one = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(listen_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener, 128) != 0) {
        std::fprintf(stderr, "fault_proxy: cannot listen on %u: %s\n", listen_port,
                     std::strerror(errno));
        return 1;
    }
    std::printf("fault_proxy: listening on %u, forwarding to %u\n", listen_port, target_port);
    std::fflush(stdout);

    Mode mode;
    std::string control_text;
    std::vector<std::unique_ptr<Link>> links;
    auto last_control = Clock::time_point{};
    char buf[65536];
    for (;;) {
        const auto now = Clock::now();
        if (now - last_control >= std::chrono::milliseconds(20)) {
            last_control = now;
            const std::string text = read_control(control);
            if (text != control_text) {
                control_text = text;
                bool reset = false;
                const Mode next = parse_mode(text, reset);
                for (auto& l : links)
                    if (reset ||
                        (mode.kind == Mode::Blackhole && next.kind != Mode::Blackhole && l->held))
                        l->close_all(reset);
                mode = next;
            }
        }
        std::erase_if(links, [](const auto& l) { return l->client < 0; });

        std::vector<pollfd> fds{{listener, POLLIN, 0}};
        for (auto& l : links) {
            const bool forwarding = mode.kind != Mode::Blackhole && !l->held;
            const short want_in = forwarding ? POLLIN : 0;
            fds.push_back({l->client,
                           static_cast<short>(want_in | (l->down.ready(mode, now) ? POLLOUT : 0)),
                           0});
            fds.push_back({l->upstream,
                           static_cast<short>(want_in | (l->up.ready(mode, now) ? POLLOUT : 0)),
                           0});
        }
        // At most 5 ms: a delayed chunk falls due, or throttled tokens build up, meanwhile.
        ::poll(fds.data(), fds.size(), 5);

        if (fds[0].revents & POLLIN) {
            for (;;) {
                const int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (c < 0) break;
                ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                auto l = std::make_unique<Link>();
                l->client = c;
                if (mode.kind == Mode::Blackhole) {
                    l->held = true;
                } else if ((l->upstream = connect_to(target_port)) < 0) {
                    close_with_reset(c);  // the broker is down: refuse like it would
                    continue;
                }
                l->up.to = l->upstream;
                l->down.to = l->client;
                links.push_back(std::move(l));
            }
        }
        const auto t = Clock::now();
        const auto delay = std::chrono::milliseconds(mode.kind == Mode::Delay ? mode.value : 0);
        for (auto& l : links) {
            if (l->held || l->client < 0 || mode.kind == Mode::Blackhole) continue;
            bool alive = true;
            for (auto [from, pipe] :
                 {std::pair{l->client, &l->up}, std::pair{l->upstream, &l->down}}) {
                const ssize_t n = ::recv(from, buf, sizeof buf, MSG_DONTWAIT);
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) alive = false;
                if (n > 0)
                    pipe->queue.emplace_back(t + delay,
                                             std::string(buf, static_cast<std::size_t>(n)));
            }
            alive = l->up.flush(mode, t) && l->down.flush(mode, t) && alive;
            if (!alive) l->close_all(false);
        }
    }
}

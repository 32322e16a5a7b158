#include "mqtt/net/event_loop.hpp"

#include <sys/epoll.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace mqtt::net {

EventLoop::EventLoop() : epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (!epoll_) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
}

namespace {
epoll_event event_for(EventLoop::Watcher& w, bool want_write) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (want_write ? EPOLLOUT : 0u);
    ev.data.ptr = &w;
    return ev;
}
}  // namespace

void EventLoop::watch(int fd, Watcher& watcher, bool want_write) {
    epoll_event ev = event_for(watcher, want_write);
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
        throw std::runtime_error(std::string("epoll_ctl add: ") + std::strerror(errno));
}

void EventLoop::update(int fd, Watcher& watcher, bool want_write) {
    epoll_event ev = event_for(watcher, want_write);
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::unwatch(int fd) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

int EventLoop::wait(std::chrono::milliseconds timeout) {
    std::array<epoll_event, 256> events;
    const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()),
                               static_cast<int>(timeout.count()));
    if (n < 0) return 0;  // EINTR: the caller checks its stop flag
    for (int i = 0; i < n; ++i) {
        const std::uint32_t e = events[i].events;
        static_cast<Watcher*>(events[i].data.ptr)
            ->on_ready((e & EPOLLIN) != 0, (e & EPOLLOUT) != 0,
                       (e & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) != 0);
    }
    return n;
}

}  // namespace mqtt::net

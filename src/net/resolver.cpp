#include "net/resolver.hpp"

#include <cstring>
#include <mutex>
#include <stdexcept>

namespace net {
namespace {

void init_library_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (const int rc = ::ares_library_init(ARES_LIB_INIT_ALL); rc != ARES_SUCCESS)
            throw std::runtime_error(std::string("c-ares: ") + ::ares_strerror(rc));
    });
}

}  // namespace

Resolver::Resolver(EventLoop& loop) : loop_(loop) {
    init_library_once();
    ares_options options{};
    options.sock_state_cb = &Resolver::on_socket_state;
    options.sock_state_cb_data = this;
    if (const int rc = ::ares_init_options(&channel_, &options, ARES_OPT_SOCK_STATE_CB);
        rc != ARES_SUCCESS)
        throw std::runtime_error(std::string("c-ares: ") + ::ares_strerror(rc));
}

Resolver::~Resolver() {
    if (timer_) loop_.cancel(*timer_);
    callback_ = nullptr;       // a cancelled lookup answers nobody
    ::ares_destroy(channel_);  // closes its sockets through on_socket_state
    for (auto& [fd, socket] : sockets_) loop_.unwatch(fd);
}

void Resolver::resolve(const std::string& host, std::uint16_t port, Callback callback) {
    callback_ = std::move(callback);
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = ARES_AI_NUMERICSERV;
    const std::string service = std::to_string(port);
    ::ares_getaddrinfo(channel_, host.c_str(), service.c_str(), &hints, &Resolver::on_result, this);
    arm_timer();
}

void Resolver::on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto& self = *static_cast<Resolver*>(data);
    const auto it = self.sockets_.find(fd);
    if (!readable && !writable) {  // c-ares closes this socket
        if (it != self.sockets_.end()) {
            self.loop_.unwatch(fd);
            self.sockets_.erase(it);  // may be the Socket whose on_ready is running: see there
        }
        return;
    }
    if (it == self.sockets_.end()) {
        auto socket = std::make_unique<Socket>(self, fd);
        self.loop_.watch(fd, *socket, writable != 0);
        self.sockets_.emplace(fd, std::move(socket));
    } else {
        self.loop_.update(fd, writable != 0);
    }
}

void Resolver::Socket::on_ready(bool readable, bool writable, bool hangup) {
    // c-ares may close this socket (and destroy this object) inside process(): copy first.
    Resolver& owner = owner_;
    const int fd = fd_;
    owner.process(readable || hangup ? fd : ARES_SOCKET_BAD, writable ? fd : ARES_SOCKET_BAD);
}

void Resolver::process(ares_socket_t read_fd, ares_socket_t write_fd) {
    ::ares_process_fd(channel_, read_fd, write_fd);
    arm_timer();
}

void Resolver::arm_timer() {
    if (timer_) loop_.cancel(*timer_);
    timer_.reset();
    timeval tv{};
    if (::ares_timeout(channel_, nullptr, &tv) == nullptr) return;  // nothing pending
    const auto when = EventLoop::Clock::now() + std::chrono::seconds(tv.tv_sec) +
                      std::chrono::microseconds(tv.tv_usec);
    timer_ = loop_.add_timer(when, [this] {
        timer_.reset();
        process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // lets c-ares retry or time out
    });
}

void Resolver::on_result(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
    auto& self = *static_cast<Resolver*>(arg);
    std::vector<SocketAddress> addresses;
    if (status == ARES_SUCCESS && result != nullptr) {
        for (const ares_addrinfo_node* n = result->nodes; n != nullptr; n = n->ai_next) {
            if (n->ai_addrlen > sizeof(sockaddr_storage)) continue;
            SocketAddress a;
            std::memcpy(&a.storage, n->ai_addr, n->ai_addrlen);
            a.size = static_cast<socklen_t>(n->ai_addrlen);
            addresses.push_back(a);
        }
    }
    if (result != nullptr) ::ares_freeaddrinfo(result);
    if (!self.callback_) return;  // destroyed (ARES_EDESTRUCTION) or cancelled
    std::string error;
    if (status != ARES_SUCCESS)
        error = ::ares_strerror(status);
    else if (addresses.empty())
        error = "no address";
    auto callback = std::move(self.callback_);
    self.callback_ = nullptr;
    callback(std::move(addresses), std::move(error));
}

}  // namespace net

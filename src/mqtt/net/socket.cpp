#include "mqtt/net/socket.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "mqtt/client.hpp"

namespace mqtt::net {

FileDescriptor connect_tcp(const std::string& host, std::uint16_t port,
                           std::chrono::milliseconds timeout) {
    const auto fail = [&](ErrorKind kind, const std::string& reason) {
        return broker_error(kind, host, port, reason);
    };
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0)
        throw fail(ErrorKind::Unreachable,
                   fmt::format("host name does not resolve ({})", gai_strerror(rc)));
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, ::freeaddrinfo);

    int last_error = 0;
    for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
        FileDescriptor fd(
            ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
        if (!fd) {
            last_error = errno;
            continue;
        }
        if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0) {
            if (errno != EINPROGRESS) {
                last_error = errno;
                continue;
            }
            pollfd p{fd.get(), POLLOUT, 0};
            const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
            if (ready == 0) {
                last_error = ETIMEDOUT;
                continue;
            }
            socklen_t len = sizeof last_error;
            ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &last_error, &len);
            if (ready < 0) last_error = errno;
            if (last_error != 0) continue;
        }
        const int one = 1;
        ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return fd;
    }
    if (last_error == ECONNREFUSED)
        throw fail(ErrorKind::Refused, "connection refused (is the broker running on that port?)");
    if (last_error == ETIMEDOUT)
        throw fail(ErrorKind::Unreachable,
                   fmt::format("unreachable (no answer within {} ms)", timeout.count()));
    throw fail(ErrorKind::Unreachable, fmt::format("unreachable ({})", std::strerror(last_error)));
}

}  // namespace mqtt::net

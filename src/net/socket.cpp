#include "net/socket.hpp"

#include <arpa/inet.h>
#include <netinet/tcp.h>

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace net {

std::optional<SocketAddress> numeric_address(const std::string& host, std::uint16_t port) {
    SocketAddress a;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
    if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        a.size = sizeof(sockaddr_in);
        return a;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        a.size = sizeof(sockaddr_in6);
        return a;
    }
    return std::nullopt;
}

void set_non_blocking(int fd) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
        throw std::system_error(errno, std::generic_category(), "fcntl(O_NONBLOCK)");
}

FileDescriptor start_tcp_connect(const SocketAddress& address, int& error,
                                 const SocketAddress* local) {
    error = 0;
    FileDescriptor fd(
        ::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        error = errno;
        return fd;
    }
    const int one = 1;
    if (::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
        error = errno;
        return FileDescriptor();
    }
    // IP_BIND_ADDRESS_NO_PORT: the port is chosen at connect(), per destination, so one local
    // address is not limited to one set of ephemeral ports for every broker.
    if (local != nullptr &&
        (::setsockopt(fd.get(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) != 0 ||
         ::bind(fd.get(), local->get(), local->size) != 0)) {
        error = errno;
        return FileDescriptor();
    }
    if (::connect(fd.get(), address.get(), address.size) != 0 && errno != EINPROGRESS) {
        error = errno;
        return FileDescriptor();
    }
    return fd;
}

int connect_result(int fd) {
    int error = 0;
    socklen_t len = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) return errno;
    return error;
}

std::string describe_connect_error(int error) {
    if (error == ECONNREFUSED) return "connection refused (is the broker running on that port?)";
    // Our own limit, not the broker's: it was never tried [issue 29].
    if (error == EMFILE || error == ENFILE)
        return std::string("not tried: this process is out of file descriptors (") +
               std::strerror(error) + "; raise ulimit -n)";
    return std::string("unreachable (") + std::strerror(error) + ")";
}

}  // namespace net

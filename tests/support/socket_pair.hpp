#pragma once
// A connected pair of local stream sockets, the second end non-blocking: the two ends of a
// connection in tests that need no network.

#include <sys/socket.h>

#include <cerrno>
#include <utility>

#include <gtest/gtest.h>

#include "net/socket.hpp"

namespace testing_support {

inline std::pair<net::FileDescriptor, net::FileDescriptor> socket_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) ADD_FAILURE() << errno;
    net::set_non_blocking(fds[1]);
    return {net::FileDescriptor(fds[0]), net::FileDescriptor(fds[1])};
}

}  // namespace testing_support

#pragma once
// RAII owner of a file descriptor, socket addresses, and the steps of a non-blocking TCP
// connect (start it, then read its outcome when the socket turns writable).

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace net {

class FileDescriptor {
  public:
    FileDescriptor() = default;
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() { reset(); }
    FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    FileDescriptor& operator=(FileDescriptor&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    FileDescriptor(const FileDescriptor&) = delete;  // one owner closes it, once
    FileDescriptor& operator=(const FileDescriptor&) = delete;

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

  private:
    int fd_{-1};
};

struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t size{0};
    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// The address if `host` is an IPv4 or IPv6 literal: no name resolution needed.
std::optional<SocketAddress> numeric_address(const std::string& host, std::uint16_t port);

// Sets O_NONBLOCK; throws std::system_error if it cannot.
void set_non_blocking(int fd);

// Starts a non-blocking TCP connect (TCP_NODELAY: we batch packets ourselves), from `local`
// if given (its port 0: the kernel picks one at connect time). Returns the socket, or an errno
// in `error` when the connect failed at once.
FileDescriptor start_tcp_connect(const SocketAddress& address, int& error,
                                 const SocketAddress* local = nullptr);
// After the socket turned writable: 0 if the connect succeeded, else its errno.
int connect_result(int fd);
// "connection refused (is the broker running on that port?)", "unreachable (...)".
std::string describe_connect_error(int error);

}  // namespace net

#pragma once
// RAII owner of a file descriptor, and a non-blocking TCP connect with a timeout.

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

namespace mqtt::net {

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

// Connects to host:port (IPv4 or IPv6) and returns a non-blocking socket with TCP_NODELAY
// set (we batch packets ourselves). Throws mqtt::Error: Refused, or Unreachable with the reason.
FileDescriptor connect_tcp(const std::string& host, std::uint16_t port,
                           std::chrono::milliseconds timeout);

}  // namespace mqtt::net

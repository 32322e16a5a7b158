#include "metrics/http_endpoint.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <system_error>

namespace metrics {

using Clock = net::EventLoop::Clock;

std::optional<ListenAddress> parse_listen_address(const std::string& text) {
    ListenAddress where{"0.0.0.0", 0};
    std::string port = text;
    if (const auto colon = text.rfind(':'); colon != std::string::npos) {
        where.address = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (where.address.size() >= 2 && where.address.front() == '[' &&
            where.address.back() == ']')
            where.address = where.address.substr(1, where.address.size() - 2);
        if (where.address.empty()) where.address = "0.0.0.0";
    }
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || error != std::errc{} || end != port.data() + port.size() || value > 65535)
        return std::nullopt;
    where.port = static_cast<std::uint16_t>(value);
    if (!net::numeric_address(where.address, where.port)) return std::nullopt;
    return where;
}

// One accepted connection: read the request head, write the answer, close.
class HttpEndpoint::Exchange final : public net::EventLoop::Watcher {
  public:
    Exchange(HttpEndpoint& owner, net::FileDescriptor fd) : owner_(owner), fd_(std::move(fd)) {
        owner_.loop_.watch(fd_.get(), *this, false);
        deadline_ = owner_.loop_.add_timer(Clock::now() + kClientDeadline,
                                           [this] { owner_.close(fd_.get()); });
    }
    ~Exchange() override {
        owner_.loop_.cancel(deadline_);
        owner_.loop_.unwatch(fd_.get());
    }
    Exchange(const Exchange&) = delete;  // registered with the loop by address
    Exchange& operator=(const Exchange&) = delete;

    // Every path that ends the exchange calls owner_.close() last: it destroys this object.
    void on_ready(bool readable, bool writable, bool hangup) override {
        if (readable && answer_.empty() && !read_request()) return owner_.close(fd_.get());
        (void)writable;  // an answer is written whenever there is one
        if (!answer_.empty() && !write_answer()) return owner_.close(fd_.get());
        if (hangup && answer_.empty()) return owner_.close(fd_.get());
    }

  private:
    // False when the exchange is over (peer gone, or nothing more to do).
    bool read_request() {
        std::array<char, 4096> chunk{};
        for (;;) {
            const ssize_t n = ::recv(fd_.get(), chunk.data(), chunk.size(), 0);
            if (n == 0) return false;
            if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
            head_.append(chunk.data(), static_cast<std::size_t>(n));
            if (const auto end = head_.find("\r\n\r\n"); end != std::string::npos) {
                answer_ = owner_.answer(head_.substr(0, end));
                return true;
            }
            if (head_.size() > kMaxRequest) {
                answer_ = status_only(431, "Request Header Fields Too Large");
                return true;
            }
        }
    }

    // False when the answer is fully written (or the peer is gone): the exchange ends.
    bool write_answer() {
        while (written_ < answer_.size()) {
            const ssize_t n = ::send(fd_.get(), answer_.data() + written_,
                                     answer_.size() - written_, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
                if (!waiting_to_write_) owner_.loop_.update(fd_.get(), true);
                waiting_to_write_ = true;
                return true;
            }
            written_ += static_cast<std::size_t>(n);
        }
        ::shutdown(fd_.get(), SHUT_WR);
        return false;
    }

  public:
    static std::string status_only(int code, std::string_view reason,
                                   std::string_view extra_headers = "") {
        const std::string body = fmt::format("{} {}\n", code, reason);
        return fmt::format(
            "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
            "{}\r\nConnection: close\r\n{}\r\n{}",
            code, reason, body.size(), extra_headers, body);
    }

  private:
    HttpEndpoint& owner_;
    net::FileDescriptor fd_;
    net::EventLoop::TimerId deadline_{0};
    std::string head_;
    std::string answer_;
    std::size_t written_{0};
    bool waiting_to_write_{false};
};

HttpEndpoint::HttpEndpoint(net::EventLoop& loop, const ListenAddress& where, Render render)
    : loop_(loop), render_(std::move(render)), address_(where.address) {
    const auto address = net::numeric_address(where.address, where.port);
    const std::string name = fmt::format("{}:{}", where.address, where.port);
    if (!address)
        throw std::system_error(EINVAL, std::generic_category(), name + " is not an address");
    listener_ = net::FileDescriptor(
        ::socket(address->storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!listener_) throw std::system_error(errno, std::generic_category(), "socket");
    const int one = 1;
    ::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listener_.get(), address->get(), address->size) != 0)
        throw std::system_error(errno, std::generic_category(), "cannot listen on " + name);
    if (::listen(listener_.get(), 64) != 0)
        throw std::system_error(errno, std::generic_category(), "cannot listen on " + name);
    net::SocketAddress bound;
    bound.size = sizeof bound.storage;
    ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound.storage), &bound.size);
    port_ = ntohs(bound.storage.ss_family == AF_INET6
                      ? reinterpret_cast<const sockaddr_in6*>(&bound.storage)->sin6_port
                      : reinterpret_cast<const sockaddr_in*>(&bound.storage)->sin_port);
    loop_.watch(listener_.get(), *this, false);
}

HttpEndpoint::~HttpEndpoint() {
    exchanges_.clear();
    if (resume_timer_)
        loop_.cancel(*resume_timer_);
    else
        loop_.unwatch(listener_.get());
}

std::string HttpEndpoint::url() const {
    const bool v6 = address_.find(':') != std::string::npos;
    const std::string host = address_ == "0.0.0.0" ? "127.0.0.1" : address_;
    return v6 ? fmt::format("http://[{}]:{}/metrics", host, port_)
              : fmt::format("http://{}:{}/metrics", host, port_);
}

void HttpEndpoint::on_ready(bool, bool, bool) {
    accept_all();
}

void HttpEndpoint::accept_all() {
    for (;;) {
        net::FileDescriptor fd(
            ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            // Out of descriptors: the listener would stay readable and spin the loop.
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                pause_accepting();
            return;  // EAGAIN: all accepted; anything else concerns that one connection
        }
        if (exchanges_.size() >= kMaxClients) {
            const std::string busy = Exchange::status_only(503, "Service Unavailable");
            (void)::send(fd.get(), busy.data(), busy.size(), MSG_NOSIGNAL);
            continue;  // closed by fd's destructor
        }
        const int key = fd.get();
        exchanges_.emplace(key, std::make_unique<Exchange>(*this, std::move(fd)));
    }
}

void HttpEndpoint::pause_accepting() {
    loop_.unwatch(listener_.get());
    resume_timer_ = loop_.add_timer(Clock::now() + std::chrono::milliseconds(100), [this] {
        resume_timer_.reset();
        loop_.watch(listener_.get(), *this, false);
    });
}

std::string HttpEndpoint::answer(const std::string& head) {
    // Request line: METHOD SP TARGET SP HTTP/1.x
    const std::string line = head.substr(0, head.find("\r\n"));
    const auto sp1 = line.find(' ');
    const auto sp2 = line.rfind(' ');
    if (sp1 == std::string::npos || sp2 == sp1 || line.compare(sp2 + 1, 5, "HTTP/") != 0)
        return Exchange::status_only(400, "Bad Request");
    const std::string method = line.substr(0, sp1);
    std::string path = line.substr(sp1 + 1, sp2 - sp1 - 1);
    path = path.substr(0, path.find('?'));
    if (method != "GET" && method != "HEAD")
        return Exchange::status_only(405, "Method Not Allowed", "Allow: GET, HEAD\r\n");
    const auto text = [&method](const std::string& body) {
        return fmt::format(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
            "{}\r\nConnection: close\r\n\r\n{}",
            body.size(), method == "HEAD" ? "" : body);
    };
    if (path == "/") return text("Metrics at /metrics, readiness at /readyz\n");
    if (path == "/healthz") return text("ok\n");
    if (path == "/readyz")
        return !ready_ || ready_() ? text("ready\n") : Exchange::status_only(503, "Not Ready");
    if (path != "/metrics") return Exchange::status_only(404, "Not Found");
    ++scrapes_;
    const std::string body = render_();
    return fmt::format(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
        "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.size(), method == "HEAD" ? "" : body);
}

void HttpEndpoint::close(int fd) {
    exchanges_.erase(fd);
}

}  // namespace metrics

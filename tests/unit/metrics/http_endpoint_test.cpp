// The /metrics endpoint on an event loop, over loopback sockets driven by the same thread as the
// loop, and the addresses it listens on.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <string>
#include <system_error>
#include <vector>

#include "metrics/exposition.hpp"
#include "metrics/http_endpoint.hpp"
#include "net/event_loop.hpp"
#include "net/socket.hpp"

namespace {

using metrics::Exposition;
using net::EventLoop;
using net::FileDescriptor;

TEST(ListenAddress, PortAloneListensOnEveryInterface) {
    const auto a = metrics::parse_listen_address("9464");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->address, "0.0.0.0");
    EXPECT_EQ(a->port, 9464);
}

TEST(ListenAddress, AddressAndPortIncludingIpv6) {
    EXPECT_EQ(metrics::parse_listen_address("127.0.0.1:0")->address, "127.0.0.1");
    EXPECT_EQ(metrics::parse_listen_address("[::1]:9464")->address, "::1");
    EXPECT_EQ(metrics::parse_listen_address(":9464")->address, "0.0.0.0");
}

TEST(ListenAddress, RejectsWhatIsNotAnAddressAndPort) {
    for (const std::string bad : {"", "x", "70000", "localhost:9464", "1.2.3.4:", "1.2.3:80"})
        EXPECT_FALSE(metrics::parse_listen_address(bad)) << bad;
}

// A loopback client of the endpoint, driven together with the loop in this thread.
class Endpoint : public ::testing::Test {
  protected:
    FileDescriptor connect_client() {
        FileDescriptor fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        const auto address = net::numeric_address("127.0.0.1", endpoint_.port());
        if (::connect(fd.get(), address->get(), address->size) != 0)
            throw std::system_error(errno, std::generic_category(), "connect");
        net::set_non_blocking(fd.get());
        return fd;
    }
    // Runs the loop until the endpoint closes the connection; everything it sent.
    std::string read_all(const FileDescriptor& fd) {
        std::string got;
        char buffer[4096];
        for (int round = 0; round < 500; ++round) {
            loop_.run_once(std::chrono::milliseconds(10));
            for (;;) {
                const ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
                if (n == 0) return got;
                if (n < 0) break;
                got.append(buffer, static_cast<std::size_t>(n));
            }
        }
        ADD_FAILURE() << "the endpoint never closed the connection";
        return got;
    }
    std::string exchange(const std::string& request) {
        const FileDescriptor fd = connect_client();
        EXPECT_EQ(::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(request.size()));
        return read_all(fd);
    }

    EventLoop loop_;
    int renders_{0};
    metrics::HttpEndpoint endpoint_{loop_, {"127.0.0.1", 0}, [this] {
                                        ++renders_;
                                        return std::string("up 1\n");
                                    }};
};

TEST_F(Endpoint, GetMetricsAnswersTheTextFormat) {
    const std::string answer = exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0U) << answer;
    EXPECT_NE(answer.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
    EXPECT_NE(answer.find("Content-Length: 5\r\n"), std::string::npos);
    EXPECT_EQ(answer.substr(answer.size() - 5), "up 1\n");
    EXPECT_EQ(endpoint_.scrapes(), 1U);
}

TEST_F(Endpoint, EachScrapeRendersAfresh) {
    exchange("GET /metrics HTTP/1.0\r\n\r\n");
    exchange("GET /metrics?x=1 HTTP/1.1\r\n\r\n");
    EXPECT_EQ(renders_, 2);
}

TEST_F(Endpoint, HeadAnswersWithoutBody) {
    const std::string answer = exchange("HEAD /metrics HTTP/1.1\r\n\r\n");
    EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK", 0), 0U);
    EXPECT_EQ(answer.substr(answer.size() - 4), "\r\n\r\n");
}

TEST_F(Endpoint, RequestArrivingInPiecesIsAnswered) {
    const FileDescriptor fd = connect_client();
    for (const std::string piece : {"GET /met", "rics HTTP/1.1\r\n", "Host: x\r\n", "\r\n"}) {
        ASSERT_GT(::send(fd.get(), piece.data(), piece.size(), MSG_NOSIGNAL), 0);
        loop_.run_once(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(read_all(fd).rfind("HTTP/1.1 200 OK", 0), 0U);
}

TEST_F(Endpoint, OtherPathsMethodsAndGarbageGetTheirStatus) {
    EXPECT_EQ(exchange("GET /nope HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0U);
    const std::string post = exchange("POST /metrics HTTP/1.1\r\n\r\n");
    EXPECT_EQ(post.rfind("HTTP/1.1 405", 0), 0U);
    EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos);
    EXPECT_EQ(exchange("hello\r\n\r\n").rfind("HTTP/1.1 400", 0), 0U);
    EXPECT_EQ(renders_, 0);
}

TEST_F(Endpoint, ReadinessFollowsItsProbeAndHealthIsAlwaysOk) {
    bool ready = false;
    endpoint_.on_ready_probe([&ready] { return ready; });
    EXPECT_EQ(exchange("GET /readyz HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 503", 0), 0U);
    EXPECT_EQ(exchange("GET /healthz HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200", 0), 0U);
    ready = true;
    const std::string answer = exchange("GET /readyz HTTP/1.1\r\n\r\n");
    EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0U) << answer;
    EXPECT_EQ(answer.substr(answer.size() - 6), "ready\n");
    EXPECT_EQ(renders_, 0) << "a probe renders no metrics";
}

TEST_F(Endpoint, OversizedRequestIsRefused) {
    const std::string huge = "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'a');
    EXPECT_EQ(exchange(huge).rfind("HTTP/1.1 431", 0), 0U);
}

TEST_F(Endpoint, ClientThatLeavesEarlyCostsNothing) {
    { const FileDescriptor gone = connect_client(); }
    for (int i = 0; i < 5; ++i) loop_.run_once(std::chrono::milliseconds(5));
    EXPECT_EQ(loop_.watched(), 1U);  // the listener only
    EXPECT_EQ(exchange("GET /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200", 0), 0U);
}

TEST_F(Endpoint, ClientsBeyondTheLimitAreToldBusy) {
    std::vector<FileDescriptor> idle;
    for (std::size_t i = 0; i < metrics::HttpEndpoint::kMaxClients; ++i) {
        idle.push_back(connect_client());
        loop_.run_once(std::chrono::milliseconds(1));
    }
    const FileDescriptor extra = connect_client();
    EXPECT_EQ(read_all(extra).rfind("HTTP/1.1 503", 0), 0U);
    idle.clear();
    for (int i = 0; i < 5; ++i) loop_.run_once(std::chrono::milliseconds(5));
    EXPECT_EQ(exchange("GET /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200", 0), 0U);
}

TEST(EndpointAddress, PortInUseIsAnErrorNamingTheAddress) {
    EventLoop loop;
    const metrics::HttpEndpoint first(loop, {"127.0.0.1", 0}, [] { return std::string(); });
    try {
        const metrics::HttpEndpoint second(loop, {"127.0.0.1", first.port()},
                                           [] { return std::string(); });
        FAIL() << "two endpoints on one port";
    } catch (const std::system_error& e) {
        EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())),
                  std::string::npos)
            << e.what();
    }
}

}  // namespace

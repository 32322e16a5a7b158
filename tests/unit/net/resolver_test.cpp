// Name resolution on the event loop (c-ares): names from /etc/hosts, literals, and a name that
// does not resolve, each answered once through the callback.
#include "net/resolver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

#include <optional>

namespace net {
namespace {

using namespace std::chrono_literals;

struct Answer {
    std::vector<SocketAddress> addresses;
    std::string error;
};

// Resolves on a loop of its own, waiting up to 10 s for the one answer.
std::optional<Answer> resolve(const std::string& host, std::uint16_t port) {
    EventLoop loop;
    Resolver resolver(loop);
    std::optional<Answer> answer;
    int calls = 0;
    resolver.resolve(host, port, [&](std::vector<SocketAddress> addresses, std::string error) {
        ++calls;
        answer = Answer{std::move(addresses), std::move(error)};
    });
    const auto deadline = EventLoop::Clock::now() + 10s;
    while (!answer && EventLoop::Clock::now() < deadline) loop.run_once(50ms);
    EXPECT_LE(calls, 1);
    return answer;
}

std::uint16_t port_of(const SocketAddress& a) {
    if (a.get()->sa_family == AF_INET)
        return ntohs(reinterpret_cast<const sockaddr_in*>(a.get())->sin_port);
    return ntohs(reinterpret_cast<const sockaddr_in6*>(a.get())->sin6_port);
}

TEST(Resolver, LocalhostFromTheHostsFileGivesALoopbackAddressWithThePort) {
    const auto answer = resolve("localhost", 1883);
    ASSERT_TRUE(answer) << "no answer within 10 s";
    ASSERT_FALSE(answer->addresses.empty()) << answer->error;
    EXPECT_TRUE(answer->error.empty());
    for (const SocketAddress& a : answer->addresses) {
        EXPECT_TRUE(a.get()->sa_family == AF_INET || a.get()->sa_family == AF_INET6);
        EXPECT_EQ(port_of(a), 1883);
    }
}

TEST(Resolver, ANameThatDoesNotResolveIsAnErrorNamingWhy) {
    // .invalid never resolves (RFC 2606); no DNS server is needed to say so.
    const auto answer = resolve("no-such-host.invalid", 1883);
    ASSERT_TRUE(answer) << "no answer within 10 s";
    EXPECT_TRUE(answer->addresses.empty());
    EXPECT_FALSE(answer->error.empty());
}

}  // namespace
}  // namespace net

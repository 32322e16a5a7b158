// A connection over a socketpair, no network: partial writes, a packet split across reads, a
// peer that closes mid-packet, the session surviving its socket.
#include "mqtt/connection.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <deque>

#include "mqtt/protocol/codec.hpp"
#include "net/event_loop.hpp"
#include "socket_pair.hpp"

namespace mqtt {
namespace {

using net::EventLoop;
using net::FileDescriptor;
using net::set_non_blocking;

using namespace std::chrono_literals;
using protocol::Session;
using protocol::Version;

using testing_support::socket_pair;

// The broker's end of a socketpair: raw bytes in and out, decoded with the codec.
class PeerEnd {
  public:
    explicit PeerEnd(FileDescriptor fd) : fd_(std::move(fd)) {}
    void write(std::string_view bytes) {
        while (!bytes.empty()) {
            const ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
            ASSERT_GT(n, 0) << std::strerror(errno);
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
    }
    void write(const protocol::Packet& p) {
        std::string bytes;
        protocol::encode(p, Version::V5, bytes);
        write(bytes);
    }
    // Reads what is there and returns the whole packets received so far.
    std::vector<protocol::Packet> read() {
        char buf[65536];
        for (;;) {
            const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
            if (n <= 0) break;
            in_.append(buf, static_cast<std::size_t>(n));
        }
        std::vector<protocol::Packet> packets;
        for (;;) {
            protocol::DecodeResult d = protocol::decode(in_, Version::V5);
            if (d.status != protocol::DecodeStatus::Ok) break;
            if (auto* p = std::get_if<protocol::Publish>(&d.packet))
                payloads.emplace_back(p->payload), dup.push_back(p->dup);
            packets.push_back(std::move(d.packet));
            in_.erase(0, d.consumed);
        }
        return packets;
    }
    void close() { fd_.reset(); }
    std::vector<std::string> payloads;  // of every PUBLISH read
    std::vector<bool> dup;

  private:
    FileDescriptor fd_;
    std::string in_;
};

// Owns a Session and a Connection the way an engine does, and records what happens.
struct Endpoint : Session::Handler, Connection::Owner {
    EventLoop loop;
    Session session{config(), *this};
    Connection connection{loop, session, *this};
    std::vector<std::string> messages;
    std::vector<std::uint16_t> confirmed;
    std::optional<std::pair<ErrorKind, std::string>> closed;

    static Session::Config config() {
        Session::Config c;
        c.connect.client_id = "net-test";
        c.max_inflight = 5000;
        return c;
    }
    void on_connack(const protocol::Connack&) override {}
    void on_message(const protocol::Publish& p) override { messages.emplace_back(p.payload); }
    void on_confirmed(std::uint16_t id, ReasonCode, Session::Clock::time_point) override {
        confirmed.push_back(id);
    }
    void on_suback(const protocol::Suback&) override {}
    void on_disconnect(const protocol::Disconnect&) override {}
    void on_transport_up() override {
        session.connection_opened(Session::Clock::now());
        connection.flush();
    }
    void on_transport_closed(ErrorKind kind, const std::string& reason) override {
        closed.emplace(kind, reason);
    }

    // Adopts our end, answers the CONNECT with a CONNACK.
    PeerEnd connect() {
        auto [ours, theirs] = socket_pair();
        PeerEnd peer(std::move(theirs));
        connection.adopt(std::move(ours));
        const auto sent = peer.read();
        EXPECT_EQ(sent.size(), 1u);
        EXPECT_TRUE(!sent.empty() && std::holds_alternative<protocol::Connect>(sent[0]));
        peer.write(protocol::Connack{});
        loop.run_once(100ms);
        EXPECT_EQ(session.state(), Session::State::Connected);
        return peer;
    }
};

std::string payload(int i) {
    return std::string(1000, static_cast<char>('a' + i % 26)) + std::to_string(i);
}

TEST(Connection, WritesTheWholeOutboxAcrossPartialWrites) {
    Endpoint e;
    PeerEnd peer = e.connect();
    constexpr int kMessages = 2000;  // ~2 MB, far more than a socket buffer takes at once
    for (int i = 0; i < kMessages; ++i)
        ASSERT_TRUE(e.session.publish("t", payload(i), 1, false, Session::Clock::now()));
    e.connection.flush();
    EXPECT_FALSE(e.session.outbox().empty()) << "the socket should not take it all at once";
    for (int round = 0; round < 10'000 && peer.payloads.size() < kMessages; ++round) {
        peer.read();
        e.loop.run_once(10ms);  // writable again: the connection writes the rest
    }
    ASSERT_EQ(peer.payloads.size(), static_cast<std::size_t>(kMessages));
    for (int i = 0; i < kMessages; ++i) ASSERT_EQ(peer.payloads[i], payload(i)) << i;
    EXPECT_TRUE(e.session.outbox().empty());
}

// A read not yet answered by a write of ours is what the engine ACKs at once before it
// sleeps (Mosquitto Nagles its PUBACKs); a write answers it, and so does quick_ack itself.
TEST(Connection, AReadIsUnansweredUntilWeWriteOrAcknowledgeIt) {
    Endpoint e;
    PeerEnd peer = e.connect();
    const auto publish_and_confirm = [&](std::string_view payload) {
        EXPECT_TRUE(e.session.publish("t", payload, 1, false, Session::Clock::now()));
        e.connection.flush();
        EXPECT_FALSE(e.connection.read_unanswered()) << "the PUBLISH carries the ACK";
        const auto sent = peer.read();
        ASSERT_EQ(sent.size(), 1u);
        const auto id = std::get<protocol::Publish>(sent[0]).packet_id;
        peer.write(protocol::Ack{protocol::PacketType::Puback, id, 0, {}});
        e.loop.run_once(100ms);
        EXPECT_TRUE(e.connection.read_unanswered());
    };
    publish_and_confirm("x");
    e.connection.quick_ack();  // on a socketpair the option fails harmlessly; the state is ours
    EXPECT_FALSE(e.connection.read_unanswered());
    publish_and_confirm("y");
    EXPECT_EQ(e.confirmed.size(), 2u);
}

TEST(Connection, APacketSplitAcrossReadsIsDeliveredOnceWhole) {
    Endpoint e;
    PeerEnd peer = e.connect();
    std::string bytes;
    protocol::encode_publish("sensors/a/telemetry", "hello, split world", 0, false, false, 0,
                             Version::V5, bytes);
    const std::size_t half = bytes.size() / 2;
    peer.write(std::string_view(bytes).substr(0, half));
    e.loop.run_once(100ms);
    EXPECT_TRUE(e.messages.empty());
    peer.write(std::string_view(bytes).substr(half));
    e.loop.run_once(100ms);
    EXPECT_EQ(e.messages, std::vector<std::string>{"hello, split world"});
}

TEST(Connection, ManyPacketsInOneReadAreAllDelivered) {
    Endpoint e;
    PeerEnd peer = e.connect();
    std::string bytes;
    for (int i = 0; i < 500; ++i)
        protocol::encode_publish("t", std::to_string(i), 0, false, false, 0, Version::V5, bytes);
    peer.write(bytes);
    for (int round = 0; round < 100 && e.messages.size() < 500; ++round) e.loop.run_once(10ms);
    ASSERT_EQ(e.messages.size(), 500u);
    EXPECT_EQ(e.messages.back(), "499");
}

TEST(Connection, PeerClosingMidPacketIsConnectionLostAndTheSessionKeepsItsMessages) {
    Endpoint e;
    PeerEnd peer = e.connect();
    ASSERT_TRUE(e.session.publish("t", "unconfirmed", 1, false, Session::Clock::now()));
    e.connection.flush();
    std::string bytes;
    protocol::encode_publish("t", "cut short", 0, false, false, 0, Version::V5, bytes);
    peer.write(std::string_view(bytes).substr(0, 5));
    peer.read();  // (closing with unread data would be a reset, not a close)
    peer.close();
    for (int round = 0; round < 10 && !e.closed; ++round) e.loop.run_once(100ms);
    ASSERT_TRUE(e.closed);
    EXPECT_EQ(e.closed->first, ErrorKind::ConnectionLost);
    EXPECT_EQ(e.closed->second,
              "connection closed by the broker in the middle of a packet (5 bytes of a truncated "
              "packet)");
    EXPECT_TRUE(e.messages.empty()) << "half a packet is not a message";
    EXPECT_EQ(e.session.state(), Session::State::Closed);
    EXPECT_EQ(e.session.in_flight(), 1u) << "the session outlives its socket";

    // The next socket continues the session: the unconfirmed message is resent with DUP.
    PeerEnd next = e.connect();
    e.loop.run_once(10ms);
    next.read();
    ASSERT_EQ(next.payloads, std::vector<std::string>{"unconfirmed"});
    EXPECT_TRUE(next.dup[0]);
}

}  // namespace
}  // namespace mqtt

#pragma once
// Scripted brokers for engine tests, on loopback with no real broker:
//   ScriptedListener  a thread that accepts connections in turn and runs a script on each
//                     (blocking sockets, for tests of one client);
//   LoopBroker        a minimal broker on an EventLoop (CONNECT -> CONNACK, QoS 1 PUBLISH ->
//                     PUBACK, DISCONNECT -> close), for many clients on the same loop.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "mqtt/protocol/codec.hpp"
#include "net/event_loop.hpp"
#include "net/socket.hpp"

namespace testing_support {

using net::FileDescriptor;

inline FileDescriptor listen_on_loopback(std::uint16_t& port) {
    FileDescriptor fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::listen(fd.get(), 4096) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
        ADD_FAILURE() << "cannot listen on loopback: " << std::strerror(errno);
    port = ntohs(a.sin_port);
    return fd;
}

// Reads one whole packet (blocking, at most 5 s); nullopt if the peer closed or went silent.
inline std::optional<mqtt::protocol::Packet> read_packet(int fd, mqtt::protocol::Version v) {
    std::string in;
    char buf[4096];
    for (;;) {
        if (!in.empty()) {
            auto d = mqtt::protocol::decode(in, v);
            if (d.status == mqtt::protocol::DecodeStatus::Ok) return d.packet;
            if (d.status == mqtt::protocol::DecodeStatus::Malformed) return std::nullopt;
        }
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 5000) != 1) return std::nullopt;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return std::nullopt;
        in.append(buf, static_cast<std::size_t>(n));
    }
}

// Reads and discards what the peer sends until it closes (or is silent for 30 s): a broker that
// takes everything and answers nothing.
inline void discard_until_closed(int fd) {
    char buf[65536];
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 30'000) != 1 || ::recv(fd, buf, sizeof buf, 0) <= 0) return;
    }
}

// Reads every packet the peer sends until it closes (or is silent for 5 s) and gives their types
// in order.
inline std::vector<mqtt::protocol::PacketType> packet_types_until_closed(
    int fd, mqtt::protocol::Version v) {
    std::string in;
    char buf[4096];
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 5000) != 1) break;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
    }
    std::vector<mqtt::protocol::PacketType> types;
    for (std::string_view rest = in; !rest.empty();) {
        const auto d = mqtt::protocol::decode(rest, v);
        if (d.status != mqtt::protocol::DecodeStatus::Ok) break;
        types.push_back(
            static_cast<mqtt::protocol::PacketType>(static_cast<std::uint8_t>(rest[0]) >> 4));
        rest.remove_prefix(d.consumed);
    }
    return types;
}

inline void write_bytes(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) return;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

class ScriptedListener {
  public:
    // Runs script(fd, i) on the i-th accepted connection, for `connections` connections.
    using Script = std::function<void(int fd, int index)>;

    ScriptedListener(int connections, Script script) : listener_(listen_on_loopback(port_)) {
        thread_ = std::thread([this, connections, script = std::move(script)] {
            for (int i = 0; i < connections; ++i) {
                pollfd p{listener_.get(), POLLIN, 0};
                if (::poll(&p, 1, 10'000) != 1) return;
                FileDescriptor fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
                if (fd) script(fd.get(), i);
            }
        });
    }
    ~ScriptedListener() { join(); }
    // Waits until every scripted connection is done.
    void join() {
        if (thread_.joinable()) thread_.join();
    }
    ScriptedListener(const ScriptedListener&) = delete;  // owns the thread
    ScriptedListener& operator=(const ScriptedListener&) = delete;
    std::uint16_t port() const { return port_; }

  private:
    std::uint16_t port_{0};
    FileDescriptor listener_;
    std::thread thread_;
};

// Runs the loop until `done`, at most 60 s (a bound, not a measurement).
template <typename Done>
bool run_until(net::EventLoop& loop, Done done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        loop.run_once(std::chrono::milliseconds(10));
    }
    return true;
}

class LoopBroker final : public net::EventLoop::Watcher {
  public:
    explicit LoopBroker(net::EventLoop& loop) : loop_(loop), listener_(listen_on_loopback(port_)) {
        net::set_non_blocking(listener_.get());
        loop_.watch(listener_.get(), *this, false);
    }
    ~LoopBroker() override {
        for (auto& c : clients_)
            if (c->fd) loop_.unwatch(c->fd.get());
        loop_.unwatch(listener_.get());
    }
    LoopBroker(const LoopBroker&) = delete;  // registered with the loop by address
    LoopBroker& operator=(const LoopBroker&) = delete;

    std::uint16_t port() const { return port_; }
    std::size_t connects{0}, publishes{0}, disconnects{0}, resent{0};
    // What came: every CONNECT, and every PUBLISH as (client id, topic, payload, retain).
    std::vector<mqtt::protocol::Connect> connect_packets;
    struct Received {
        std::string client_id, topic, payload;
        bool retain;
    };
    std::vector<Received> received;
    std::vector<std::string> unsubscribed;  // every filter of every UNSUBSCRIBE
    // Wills published for connections that ended without DISCONNECT [MQTT-3.1.2-8], as
    // (client id, topic, payload, retain).
    std::vector<Received> wills;
    // The script: the first connection is closed, unacknowledged, after this many PUBLISHes.
    std::size_t drop_first_connection_after{0};
    // The script: the first connection answers its first PUBLISH with these bytes instead of a
    // PUBACK (a misbehaving broker), and closes after them if asked to.
    std::string first_answer;
    bool close_after_first_answer{false};

    void on_ready(bool, bool, bool) override {
        for (;;) {
            FileDescriptor fd(
                ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
            if (!fd) return;
            auto c = std::make_unique<Peer>(*this, std::move(fd));
            loop_.watch(c->fd.get(), *c, false);
            clients_.push_back(std::move(c));
        }
    }

  private:
    struct Peer final : net::EventLoop::Watcher {
        Peer(LoopBroker& b, FileDescriptor f) : broker(b), fd(std::move(f)) {}
        LoopBroker& broker;
        FileDescriptor fd;
        std::string in;
        std::string client_id;
        std::optional<mqtt::protocol::Will> will;
        mqtt::protocol::Version version{mqtt::protocol::Version::V5};

        void on_ready(bool, bool, bool) override {
            char buf[4096];
            bool eof = false;
            for (;;) {
                const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
                if (n <= 0) {
                    eof = n == 0;
                    break;
                }
                in.append(buf, static_cast<std::size_t>(n));
            }
            std::string out;
            std::size_t consumed = 0;
            for (;;) {
                // Views into `in`: erased only after the packets were handled.
                auto d = mqtt::protocol::decode(std::string_view(in).substr(consumed), version);
                if (d.status != mqtt::protocol::DecodeStatus::Ok) break;
                consumed += d.consumed;
                if (auto* c = std::get_if<mqtt::protocol::Connect>(&d.packet)) {
                    version = c->version;
                    client_id = c->client_id;
                    will = c->will;
                    broker.connect_packets.push_back(*c);
                    ++broker.connects;
                    mqtt::protocol::encode(mqtt::protocol::Connack{}, version, out);
                } else if (auto* p = std::get_if<mqtt::protocol::Publish>(&d.packet)) {
                    ++broker.publishes;
                    broker.received.push_back(
                        {client_id, std::string(p->topic), std::string(p->payload), p->retain});
                    if (p->dup) ++broker.resent;
                    if (broker.connects == 1 && broker.drop_first_connection_after != 0 &&
                        broker.publishes >= broker.drop_first_connection_after)
                        return close();
                    if (broker.connects == 1 && broker.publishes == 1 &&
                        !broker.first_answer.empty()) {
                        write_bytes(fd.get(), broker.first_answer);
                        if (broker.close_after_first_answer) return close();
                        continue;
                    }
                    if (p->qos == 1)
                        mqtt::protocol::encode(
                            mqtt::protocol::Ack{
                                mqtt::protocol::PacketType::Puback, p->packet_id, 0, {}},
                            version, out);
                } else if (auto* sub = std::get_if<mqtt::protocol::Subscribe>(&d.packet)) {
                    mqtt::protocol::Suback ack;
                    ack.packet_id = sub->packet_id;
                    for (const auto& s : sub->subscriptions)
                        ack.reasons.push_back(s.options & 3u);  // granted as asked
                    mqtt::protocol::encode(ack, version, out);
                } else if (auto* un = std::get_if<mqtt::protocol::Unsubscribe>(&d.packet)) {
                    mqtt::protocol::Suback ack;
                    ack.type = mqtt::protocol::PacketType::Unsuback;
                    ack.packet_id = un->packet_id;
                    ack.reasons.assign(un->filters.size(), 0);
                    broker.unsubscribed.insert(broker.unsubscribed.end(), un->filters.begin(),
                                               un->filters.end());
                    mqtt::protocol::encode(ack, version, out);
                } else if (std::holds_alternative<mqtt::protocol::Disconnect>(d.packet)) {
                    ++broker.disconnects;
                    will.reset();  // an orderly end: no will [MQTT-3.14.4-3]
                    return close();
                }
            }
            in.erase(0, consumed);
            write_bytes(fd.get(), out);
            if (eof) close();  // after the packets that came before the end
        }
        void close() {
            if (will) broker.wills.push_back({client_id, will->topic, will->payload, will->retain});
            will.reset();
            broker.loop_.unwatch(fd.get());
            fd.reset();
            in = std::string();
        }
    };

    net::EventLoop& loop_;
    std::uint16_t port_{0};
    FileDescriptor listener_;
    std::vector<std::unique_ptr<Peer>> clients_;
};

}  // namespace testing_support

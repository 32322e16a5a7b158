// The native engine against scripted brokers on loopback: the MQTT 5 -> 3.1.1 fallback both
// ways a 3.1.1-only broker says no, name resolution on the loop, reconnecting, brokers that
// break the rules, and a thousand clients sharing one event loop.

#include <sys/resource.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <set>

#include "mqtt/engines.hpp"
#include "net/event_loop.hpp"
#include "scripted_brokers.hpp"
#include "scripted_peer.hpp"

namespace mqtt {
namespace {

using namespace std::chrono_literals;
using protocol::Version;
using testing_support::kConnackBadVersion;
using testing_support::LoopBroker;
using testing_support::Mqtt311OnlyBroker;
using testing_support::PublishingBroker;
using testing_support::read_packet;
using testing_support::ScriptedListener;
using testing_support::write_bytes;

struct FallbackCase {
    Engine engine;
    bool close_without_connack;
};
// The case's name where GoogleTest would print the parameter's bytes (ctest's test names).
void PrintTo(const FallbackCase& c, std::ostream* os) {
    *os << (c.engine == Engine::Native ? "native" : "libmosquitto")
        << (c.close_without_connack ? ", closed without CONNACK" : ", CONNACK refusing MQTT 5");
}

class Fallback : public testing::TestWithParam<FallbackCase> {};

TEST_P(Fallback, AnMqtt311OnlyBrokerGetsA311ConnectionAndTheDescriptionSaysSo) {
    std::string description;
    std::vector<int> levels;
    {
        Mqtt311OnlyBroker broker(GetParam().close_without_connack);
        auto client = make_client(GetParam().engine);
        ConnectOptions o;
        o.port = broker.listener.port();
        o.connect_timeout = 5s;
        client->connect(o);
        description = client->protocol_description();
        client->disconnect();
        client.reset();
        broker.listener.join();  // before reading what it recorded
        levels = broker.levels;
    }
    EXPECT_EQ(levels, (std::vector<int>{5, 4}));
    EXPECT_NE(description.find("3.1.1"), std::string::npos) << description;
    EXPECT_NE(description.find("refused MQTT 5"), std::string::npos) << description;
}

INSTANTIATE_TEST_SUITE_P(
    BothEngines, Fallback,
    testing::Values(FallbackCase{Engine::Native, true}, FallbackCase{Engine::Native, false},
                    FallbackCase{Engine::Libmosquitto, true},
                    FallbackCase{Engine::Libmosquitto, false}),
    [](const testing::TestParamInfo<FallbackCase>& c) {
        return std::string(c.param.engine == Engine::Native ? "Native" : "Libmosquitto") +
               (c.param.close_without_connack ? "ClosedWithoutConnack" : "Connack0x84");
    });

TEST(Fallback, TurnedOffTheRefusalIsAnErrorNamingIt) {
    ScriptedListener listener(1, [](int fd, int) {
        read_packet(fd, Version::V5);
        write_bytes(fd, kConnackBadVersion);
    });
    auto client = make_client(Engine::Native);
    ConnectOptions o;
    o.port = listener.port();
    o.version_fallback = false;
    try {
        client->connect(o);
        FAIL() << "connected";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Protocol);
        EXPECT_NE(std::string(e.what()).find("unsupported protocol version"), std::string::npos)
            << e.what();
    }
}

TEST(NativeClient, ResolvesAHostNameOnTheLoop) {
    net::EventLoop loop;
    LoopBroker broker(loop);
    auto client = make_native_client(loop);
    ConnectOptions o;
    o.host = "localhost";  // /etc/hosts, through c-ares; may give ::1 first, then 127.0.0.1
    o.port = broker.port();
    client->start_connect(o);
    for (int i = 0; i < 500 && !client->connected(); ++i) client->poll(10ms);
    EXPECT_TRUE(client->connected());
    EXPECT_EQ(broker.connects, 1u);
}

TEST(NativeClient, AnUnsubscribeIsSentAndItsUnsubackTimed) {
    net::EventLoop loop;
    LoopBroker broker(loop);
    auto client = make_native_client(loop);
    std::vector<StepTiming> steps;
    client->on_step_timed([&](const StepTiming& t) { steps.push_back(t); });
    ConnectOptions o;
    o.port = broker.port();
    client->start_connect(o);
    ASSERT_TRUE(run_until(loop, [&] { return client->connected(); }));
    client->start_subscribe({"a", "b"}, QoS::AtLeastOnce);
    client->start_unsubscribe({"b"});
    ASSERT_TRUE(run_until(loop, [&] { return steps.size() == 4; }));
    EXPECT_EQ(steps[2].step, StepTiming::Step::Suback);
    EXPECT_EQ(steps[3].step, StepTiming::Step::Unsuback);
    EXPECT_EQ(broker.unsubscribed, std::vector<std::string>{"b"});
}

TEST(NativeClient, AnUnresolvableNameIsUnreachableNamingTheHost) {
    auto client = make_client(Engine::Native);
    ConnectOptions o;
    o.host = "no-such-host.invalid";
    o.connect_timeout = 20s;
    try {
        client->connect(o);
        FAIL() << "connected";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Unreachable);
        EXPECT_NE(std::string(e.what()).find("broker no-such-host.invalid:1883: host name"),
                  std::string::npos)
            << e.what();
    }
}

TEST(NativeClient, ASilentBrokerIsANamedConnectTimeout) {
    ScriptedListener listener(1, [](int fd, int) { read_packet(fd, Version::V5); });
    auto client = make_client(Engine::Native);
    ConnectOptions o;
    o.port = listener.port();
    o.connect_timeout = 300ms;
    try {
        client->connect(o);
        FAIL() << "connected";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Unreachable);
        EXPECT_NE(std::string(e.what()).find("no CONNACK within 300 ms"), std::string::npos)
            << e.what();
    }
}

std::size_t resident_kb() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) / 1024;
}

using testing_support::run_until;

TEST(NativeClient, AThousandClientsShareOneEventLoop) {
    constexpr std::size_t kClients = 1000;
    net::EventLoop loop;
    LoopBroker broker(loop);
    const std::size_t rss_before = resident_kb();
    const auto started = std::chrono::steady_clock::now();

    std::vector<std::unique_ptr<Client>> clients;
    std::size_t confirmed = 0;
    for (std::size_t i = 0; i < kClients; ++i) {
        auto c = make_native_client(loop);
        c->on_confirmed([&](const Confirmation& conf) { confirmed += conf.accepted() ? 1 : 0; });
        ConnectOptions o;
        o.port = broker.port();
        o.client_id = "device-" + std::to_string(i);
        o.max_inflight = 10;
        o.receive_maximum = 10;
        c->start_connect(o);
        clients.push_back(std::move(c));
    }
    const auto all_connected = [&] {
        for (const auto& c : clients)
            if (!c->connected()) return false;
        return true;
    };
    ASSERT_TRUE(run_until(loop, all_connected)) << broker.connects << " connected";
    const auto connected_at = std::chrono::steady_clock::now();
    const std::size_t rss_idle = resident_kb();

    for (std::size_t i = 0; i < kClients; ++i)
        ASSERT_TRUE(clients[i]->publish("sensors/device-" + std::to_string(i) + "/telemetry",
                                        "{\"seq\":1}", QoS::AtLeastOnce));
    ASSERT_TRUE(run_until(loop, [&] { return confirmed == kClients; })) << confirmed;
    for (auto& c : clients) c->disconnect();
    ASSERT_TRUE(run_until(loop, [&] { return broker.disconnects == kClients; }))
        << broker.disconnects;
    const auto done_at = std::chrono::steady_clock::now();

    EXPECT_EQ(broker.connects, kClients);
    EXPECT_EQ(broker.publishes, kClients);
    using ms = std::chrono::milliseconds;
    std::printf(
        "%zu clients on one loop: connected in %lld ms, all done in %lld ms; resident "
        "memory per idle client %.1f KB (client and scripted peer, one process)\n",
        kClients,
        static_cast<long long>(std::chrono::duration_cast<ms>(connected_at - started).count()),
        static_cast<long long>(std::chrono::duration_cast<ms>(done_at - started).count()),
        static_cast<double>(rss_idle - std::min(rss_idle, rss_before)) /
            static_cast<double>(kClients));
}

}  // namespace
}  // namespace mqtt

namespace mqtt {
namespace {

ConnectOptions reconnecting(std::uint16_t port) {
    ConnectOptions o;
    o.port = port;
    o.client_id = "reconnecting";
    o.reconnect_min = std::chrono::milliseconds(10);
    o.reconnect_max = std::chrono::milliseconds(50);
    o.give_up_after = std::chrono::seconds(10);
    return o;
}

TEST(NativeClient, TimesEachStepOfConnectingAndSubscribingAndTheOutageOfAReconnect) {
    net::EventLoop loop;
    LoopBroker broker(loop);
    broker.drop_first_connection_after = 1;
    auto client = make_native_client(loop);
    std::vector<StepTiming> steps;
    client->on_step_timed([&](const StepTiming& t) { steps.push_back(t); });
    ConnectOptions o = reconnecting(broker.port());
    o.host = "localhost";  // a name: the resolve step is taken too
    client->start_connect(o);
    ASSERT_TRUE(run_until(loop, [&] { return client->connected(); }));
    client->start_subscribe({"a/#", "b"}, QoS::AtLeastOnce);
    ASSERT_TRUE(run_until(loop, [&] { return steps.size() == 4; }));
    ASSERT_TRUE(client->publish("t", "m", QoS::AtLeastOnce));  // the broker drops us for it
    using Step = StepTiming::Step;
    const auto outage = [&] {
        return std::find_if(steps.begin(), steps.end(),
                            [](const StepTiming& t) { return t.step == Step::Outage; });
    };
    ASSERT_TRUE(run_until(loop, [&] {
        client->poll(0ms);
        return outage() != steps.end();
    }));
    steps.erase(outage() + 1, steps.end());  // the resubscription's SUBACK may follow
    std::vector<std::pair<Step, bool>> seen;
    for (const StepTiming& t : steps) {
        seen.emplace_back(t.step, t.reconnect);
        EXPECT_GE(t.took.count(), 0);
        EXPECT_EQ(t.reason, ReasonCode::Success);
    }
    EXPECT_EQ(seen, (std::vector<std::pair<Step, bool>>{{Step::Resolve, false},
                                                        {Step::Tcp, false},
                                                        {Step::Connack, false},
                                                        {Step::Suback, false},
                                                        {Step::Resolve, true},
                                                        {Step::Tcp, true},
                                                        {Step::Connack, true},
                                                        {Step::Outage, true}}));
    EXPECT_GT(steps.back().took.count(), 0);
}

TEST(NativeClient, ReconnectsAfterALostConnectionAndResendsTheUnconfirmedWithDup) {
    net::EventLoop loop;
    LoopBroker broker(loop);
    broker.drop_first_connection_after = 3;  // the first connection dies holding 3 messages
    auto client = make_native_client(loop);
    std::vector<Reconnection> reconnections;
    std::size_t confirmed = 0;
    client->on_reconnected([&](const Reconnection& r) { reconnections.push_back(r); });
    client->on_confirmed([&](const Confirmation& c) { confirmed += c.accepted() ? 1 : 0; });
    client->start_connect(reconnecting(broker.port()));
    ASSERT_TRUE(run_until(loop, [&] { return client->connected(); }));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(client->publish("t", "m", QoS::AtLeastOnce));
    ASSERT_TRUE(run_until(loop, [&] {
        client->poll(0ms);  // throws if the client gave up
        return confirmed == 3;
    }));
    EXPECT_EQ(broker.connects, 2u);
    EXPECT_EQ(broker.resent, 3u) << "the three unconfirmed messages again, with DUP";
    ASSERT_EQ(reconnections.size(), 1u);
    EXPECT_EQ(reconnections[0].cause, "connection closed by the broker");
    EXPECT_EQ(reconnections[0].attempts, 1);
    EXPECT_FALSE(reconnections[0].session_present) << "the scripted broker keeps no sessions";
}

TEST(NativeClient, Qos0MessagesGetDistinctIdsConfirmedInTheOrderPublished) {
    net::EventLoop loop;
    LoopBroker broker(loop);
    auto client = make_native_client(loop);
    std::vector<PublishId> confirmed;
    client->on_confirmed([&](const Confirmation& c) { confirmed.push_back(c.id); });
    client->start_connect(reconnecting(broker.port()));
    ASSERT_TRUE(run_until(loop, [&] { return client->connected(); }));
    std::vector<PublishId> given;
    for (int i = 0; i < 5; ++i) {
        const auto id = client->publish("t", "m", QoS::AtMostOnce);
        ASSERT_TRUE(id);
        given.push_back(*id);
    }
    ASSERT_TRUE(run_until(loop, [&] {
        client->poll(0ms);
        return confirmed.size() == 5;
    }));
    EXPECT_EQ(confirmed, given);
    EXPECT_EQ(std::set<PublishId>(given.begin(), given.end()).size(), 5u)
        << "no packet id at QoS 0, yet each message its own id";
}

struct Misbehaviour {
    const char* name;
    std::string answer;  // to the first PUBLISH, instead of its PUBACK
    bool then_close;
    const char* named_rule;  // what the reconnect's cause must say
};
// The case's name where GoogleTest would print the parameter's bytes (ctest's test names).
void PrintTo(const Misbehaviour& c, std::ostream* os) {
    *os << c.name;
}

class MisbehavingBroker : public testing::TestWithParam<Misbehaviour> {};

TEST_P(MisbehavingBroker, ClosesWithTheRuleBrokenReconnectsAndTheMessageIsConfirmed) {
    net::EventLoop loop;
    LoopBroker broker(loop);
    broker.first_answer = GetParam().answer;
    broker.close_after_first_answer = GetParam().then_close;
    auto client = make_native_client(loop);
    std::vector<Reconnection> reconnections;
    std::size_t confirmed = 0;
    client->on_reconnected([&](const Reconnection& r) { reconnections.push_back(r); });
    client->on_confirmed([&](const Confirmation& c) { confirmed += c.accepted() ? 1 : 0; });
    client->start_connect(reconnecting(broker.port()));
    ASSERT_TRUE(run_until(loop, [&] { return client->connected(); }));
    ASSERT_TRUE(client->publish("t", "m", QoS::AtLeastOnce));
    ASSERT_TRUE(run_until(loop, [&] {
        client->poll(0ms);  // throws if the client gave up
        return confirmed == 1;
    }));
    EXPECT_EQ(broker.connects, 2u);
    EXPECT_EQ(broker.resent, 1u) << "the unconfirmed message again, with DUP";
    ASSERT_EQ(reconnections.size(), 1u);
    EXPECT_NE(reconnections[0].cause.find(GetParam().named_rule), std::string::npos)
        << reconnections[0].cause;
}

INSTANTIATE_TEST_SUITE_P(
    NativeClient, MisbehavingBroker,
    testing::Values(Misbehaviour{"PubackForAnUnknownPacketId", std::string("\x40\x02\x03\xe7", 4),
                                 false, "PUBACK for packet identifier 999, which is not in flight"},
                    Misbehaviour{"GarbageBytes", std::string("\x00\x00\xff\xff", 4), false,
                                 "reserved packet type 0"},
                    Misbehaviour{"TruncatedPacket", std::string("\x40\x02\x00", 3), true,
                                 "in the middle of a packet (3 bytes of a truncated packet)"},
                    Misbehaviour{"OversizedLength", std::string("\x30\xff\xff\xff\xff\x01", 6),
                                 false, "remaining length longer than 4 bytes"},
                    Misbehaviour{"SecondConnack", std::string("\x20\x03\x00\x00\x00", 5), false,
                                 "second CONNACK"}),
    [](const testing::TestParamInfo<Misbehaviour>& p) { return p.param.name; });

TEST(NativeClient, PublishWaitsWhileReconnecting) {
    net::EventLoop loop;
    LoopBroker broker(loop);
    broker.drop_first_connection_after = 1;
    auto client = make_native_client(loop);
    client->start_connect(reconnecting(broker.port()));
    ASSERT_TRUE(run_until(loop, [&] { return client->connected(); }));
    ASSERT_TRUE(client->publish("t", "m", QoS::AtLeastOnce));
    ASSERT_TRUE(run_until(loop, [&] { return !client->connected(); }));
    EXPECT_FALSE(client->publish("t", "m", QoS::AtLeastOnce)) << "no connection: wait";
    ASSERT_TRUE(run_until(loop, [&] { return client->connected(); }));
    EXPECT_TRUE(client->publish("t", "m", QoS::AtLeastOnce));
}

TEST(NativeClient, GivesUpAfterTheOutageLimitNamingTheCause) {
    net::EventLoop loop;
    auto broker = std::make_unique<LoopBroker>(loop);
    auto client = make_native_client(loop);
    ConnectOptions o = reconnecting(broker->port());
    o.give_up_after = std::chrono::milliseconds(300);
    client->start_connect(o);
    ASSERT_TRUE(run_until(loop, [&] { return client->connected(); }));
    broker.reset();  // gone for good: every attempt is refused
    try {
        for (int i = 0; i < 1000; ++i) client->poll(10ms);
        FAIL() << "never gave up";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::ConnectionLost);
        EXPECT_NE(std::string(e.what()).find("gave up after"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("connection refused"), std::string::npos) << e.what();
    }
}

TEST(NativeClient, WithoutGiveUpAfterALostConnectionIsFinal) {
    net::EventLoop loop;
    auto broker = std::make_unique<LoopBroker>(loop);
    auto client = make_native_client(loop);
    ConnectOptions o = reconnecting(broker->port());
    o.give_up_after = std::chrono::milliseconds(0);
    client->start_connect(o);
    ASSERT_TRUE(run_until(loop, [&] { return client->connected(); }));
    broker.reset();
    EXPECT_THROW(
        {
            for (int i = 0; i < 100; ++i) client->poll(10ms);
        },
        Error);
}

}  // namespace
}  // namespace mqtt

namespace mqtt {
namespace {

TEST(NativeClient, ABrokerThatAcceptsAndThenGoesSilentIsALostConnectionAfterOneAndAHalfKeepalives) {
    // CONNACK, then nothing: no PUBACK, no PINGRESP, but the socket stays open.
    ScriptedListener listener(1, [](int fd, int) {
        read_packet(fd, Version::V5);
        write_bytes(fd, std::string_view("\x20\x03\x00\x00\x00", 5));
        testing_support::discard_until_closed(fd);
    });
    auto client = make_client(Engine::Native);
    ConnectOptions o;
    o.port = listener.port();
    o.keepalive = std::chrono::seconds(2);
    client->connect(o);
    ASSERT_TRUE(client->publish("t", "m", QoS::AtLeastOnce));
    try {
        for (int i = 0; i < 100; ++i) client->poll(100ms);  // at most 10 s
        FAIL() << "the silent broker was not noticed";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::ConnectionLost);
        EXPECT_NE(std::string(e.what()).find("no packet from the broker for 1.5 keepalive "
                                             "intervals (3 s)"),
                  std::string::npos)
            << e.what();
    }
    client.reset();
}

TEST(NativeClient, NoPubackLeavesBeforeTheBatchEndHandlerReturns) {
    PublishingBroker broker;
    auto client = make_client(Engine::Native);
    ASSERT_TRUE(client->acknowledges_after_batch_end());
    int delivered = 0;
    client->on_message([&](const Message&) { ++delivered; });
    // A sink that cannot make the batch durable (disk full, or the process dies here).
    client->on_batch_end([&] {
        if (delivered > 0) throw std::runtime_error("cannot sync the journal");
    });
    ConnectOptions o;
    o.port = broker.listener.port();
    EXPECT_THROW(
        {
            client->connect(o);
            for (int i = 0; i < 50; ++i) client->poll(20ms);
        },
        std::runtime_error);
    client.reset();  // the process ends without writing the batch's PUBACKs
    broker.listener.join();
    EXPECT_EQ(delivered, 3);
    EXPECT_EQ(broker.pubacks, 0) << "a message is acknowledged only once its batch is durable";
}

TEST(NativeClient, ThePubacksOfABatchLeaveRightAfterItsBatchEndHandler) {
    PublishingBroker broker;
    auto client = make_client(Engine::Native);
    int delivered = 0, batches = 0;
    client->on_message([&](const Message&) { ++delivered; });
    client->on_batch_end([&] { batches += delivered > 0 ? 1 : 0; });
    ConnectOptions o;
    o.port = broker.listener.port();
    client->connect(o);
    for (int i = 0; i < 50 && delivered < 3; ++i) client->poll(20ms);
    client->disconnect();
    client.reset();
    broker.listener.join();
    EXPECT_EQ(delivered, 3);
    EXPECT_GE(batches, 1);
    EXPECT_EQ(broker.pubacks, 3);
}

// The port of a broker that is gone: connecting there is refused.
std::uint16_t closed_port(net::EventLoop& loop) {
    LoopBroker gone(loop);
    return gone.port();
}

TEST(NativeClient, AFirstConnectSkipsANodeOfTheListThatIsDown) {
    net::EventLoop loop;
    const std::uint16_t down = closed_port(loop);
    LoopBroker up(loop);
    auto client = make_native_client(loop);
    ConnectOptions o;
    o.port = down;
    o.failover = {{"127.0.0.1", up.port()}};
    client->start_connect(o);
    for (int i = 0; i < 500 && !client->connected(); ++i) client->poll(10ms);
    EXPECT_TRUE(client->connected());
    EXPECT_EQ(up.connects, 1u);
}

TEST(NativeClient, WhenEveryNodeIsDownTheErrorNamesEach) {
    net::EventLoop loop;
    const std::uint16_t a = closed_port(loop), b = closed_port(loop);
    auto client = make_native_client(loop);
    ConnectOptions o;
    o.port = a;
    o.failover = {{"127.0.0.1", b}};
    try {
        client->connect(o);
        FAIL() << "connected";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Refused);
        const std::string what = e.what();
        EXPECT_NE(what.find(fmt::format("broker 127.0.0.1:{}", b)), std::string::npos) << what;
        EXPECT_NE(what.find(fmt::format("also tried 127.0.0.1:{}", a)), std::string::npos) << what;
    }
}

TEST(NativeClient, AClientWhoseNodeWentAwayContinuesOnAnotherNode) {
    net::EventLoop loop;
    auto first = std::make_unique<LoopBroker>(loop);
    LoopBroker second(loop);
    auto client = make_native_client(loop);
    std::optional<Reconnection> reconnection;
    client->on_reconnected([&](const Reconnection& r) { reconnection = r; });
    int confirmed = 0;
    client->on_confirmed([&](const Confirmation&) { ++confirmed; });
    ConnectOptions o;
    o.port = first->port();
    o.failover = {{"127.0.0.1", second.port()}};
    o.reconnect_min = 10ms;
    o.give_up_after = 10s;
    client->start_connect(o);
    ASSERT_TRUE(run_until(loop, [&] { return client->connected(); }));
    first.reset();  // the node is gone: its sockets close, its port refuses
    ASSERT_TRUE(run_until(loop, [&] { return reconnection.has_value(); }));
    EXPECT_GE(reconnection->attempts, 2) << "the first attempt went back to the same node";
    EXPECT_EQ(second.connects, 1u);
    ASSERT_TRUE(client->publish("sensors/x", "after the failover", QoS::AtLeastOnce));
    ASSERT_TRUE(run_until(loop, [&] { return confirmed == 1; }));
    ASSERT_EQ(second.received.size(), 1u);
    EXPECT_EQ(second.received[0].payload, "after the failover");
}

}  // namespace
}  // namespace mqtt

// MultiClient: a fleet of connections on one loop against a scripted broker on the same loop:
// each plan its own CONNECT (client id, will), a retained birth after every CONNACK, publishes
// routed by topic, an orderly end that says offline, a ramp at the connect rate.
#include <gtest/gtest.h>

#include <algorithm>

#include "mqtt/multi_client.hpp"
#include "net/event_loop.hpp"
#include "scripted_peer.hpp"

namespace mqtt {
namespace {

using namespace std::chrono_literals;
using testing_support::LoopBroker;

using testing_support::run_until;

std::vector<ConnectionPlan> devices(std::size_t n) {
    std::vector<ConnectionPlan> plans(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::string id = "dev-" + std::to_string(i);
        plans[i].client_id = id;
        plans[i].topics = {"t/" + id};
        plans[i].will = WillOptions{"s/" + id, "offline", QoS::AtLeastOnce, true};
        plans[i].birth = std::make_pair("s/" + id, std::string("online"));
    }
    return plans;
}

class FleetClient : public ::testing::Test {
  protected:
    ConnectOptions options() const {
        ConnectOptions o;
        o.port = broker_.port();
        o.max_inflight = 4;
        o.give_up_after = 10s;
        return o;
    }
    std::size_t received_with(const std::string& topic, const std::string& payload,
                              bool retain) const {
        return static_cast<std::size_t>(
            std::count_if(broker_.received.begin(), broker_.received.end(), [&](const auto& r) {
                return r.topic == topic && r.payload == payload && r.retain == retain;
            }));
    }

    net::EventLoop loop_;
    LoopBroker broker_{loop_};
};

TEST_F(FleetClient, EachPlanIsAConnectionWithItsClientIdAndLastWill) {
    MultiClient fleet(loop_, devices(20), 0);
    fleet.start_connect(options());
    ASSERT_TRUE(run_until(loop_, [&] { return fleet.connected(); }));
    ASSERT_EQ(broker_.connect_packets.size(), 20U);
    for (const auto& c : broker_.connect_packets) {
        ASSERT_TRUE(c.will) << c.client_id;
        EXPECT_EQ(c.will->topic, "s/" + c.client_id);
        EXPECT_EQ(c.will->payload, "offline");
        EXPECT_TRUE(c.will->retain);
        EXPECT_EQ(c.will->qos, 1);
    }
    EXPECT_EQ(fleet.window(), 20U * 4);
}

TEST_F(FleetClient, EveryConnectionPublishesARetainedBirthWhoseConfirmationIsNotReported) {
    MultiClient fleet(loop_, devices(5), 0);
    std::size_t confirmed = 0;
    fleet.on_confirmed([&](const Confirmation&) { ++confirmed; });
    fleet.start_connect(options());
    ASSERT_TRUE(run_until(loop_, [&] { return fleet.connected() && fleet.in_flight() == 0; }));
    ASSERT_TRUE(run_until(loop_, [&] { return broker_.publishes == 5; }));
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(received_with("s/dev-" + std::to_string(i), "online", true), 1U) << i;
    EXPECT_EQ(confirmed, 0U);
}

TEST_F(FleetClient, PublishGoesOutOnTheConnectionThatOwnsTheTopicAndItsIdNamesIt) {
    MultiClient fleet(loop_, devices(3), 0);
    std::vector<PublishId> confirmed;
    fleet.on_confirmed([&](const Confirmation& c) { confirmed.push_back(c.id); });
    fleet.start_connect(options());
    ASSERT_TRUE(run_until(loop_, [&] { return fleet.connected() && fleet.in_flight() == 0; }));
    const auto id = fleet.publish("t/dev-2", "reading", QoS::AtLeastOnce);
    ASSERT_TRUE(id);
    EXPECT_EQ(*id >> 32, 2U);
    ASSERT_TRUE(run_until(loop_, [&] { return confirmed.size() == 1; }));
    EXPECT_EQ(confirmed[0], *id);
    const auto it = std::find_if(broker_.received.begin(), broker_.received.end(),
                                 [](const auto& r) { return r.topic == "t/dev-2"; });
    ASSERT_NE(it, broker_.received.end());
    EXPECT_EQ(it->client_id, "dev-2");
    EXPECT_EQ(fleet.in_flight(), 0U);
}

TEST_F(FleetClient, AnAnswerLeavesOnTheConnectionSubscribedToItsRequestsTopic) {
    std::vector<ConnectionPlan> plans = devices(3);
    for (std::size_t i = 0; i < plans.size(); ++i)
        plans[i].subscriptions = {"c/dev-" + std::to_string(i)};
    MultiClient fleet(loop_, plans, 0);
    fleet.start_connect(options());
    ASSERT_TRUE(run_until(loop_, [&] { return fleet.connected() && fleet.in_flight() == 0; }));
    const auto id =
        fleet.publish_correlated("replies", "done", QoS::AtLeastOnce, {"", "", "c/dev-1"});
    ASSERT_TRUE(id);
    EXPECT_EQ(*id >> 32, 1U) << "the device's own connection, not the first";
    ASSERT_TRUE(run_until(loop_, [&] { return fleet.in_flight() == 0; }));
    const auto it = std::find_if(broker_.received.begin(), broker_.received.end(),
                                 [](const auto& r) { return r.topic == "replies"; });
    ASSERT_NE(it, broker_.received.end());
    EXPECT_EQ(it->client_id, "dev-1");
}

TEST_F(FleetClient, AnOrderlyEndSaysOfflineRetainedBeforeDisconnecting) {
    MultiClient fleet(loop_, devices(4), 0);
    fleet.start_connect(options());
    ASSERT_TRUE(run_until(loop_, [&] { return fleet.connected() && fleet.in_flight() == 0; }));
    fleet.disconnect();
    ASSERT_TRUE(run_until(loop_, [&] { return broker_.disconnects == 4; }));
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(received_with("s/dev-" + std::to_string(i), "offline", true), 1U) << i;
}

TEST_F(FleetClient, ALostConnectionComesBackAndSaysOnlineAgain) {
    broker_.drop_first_connection_after = 1;  // the device's birth: gone unacknowledged
    MultiClient fleet(loop_, devices(1), 0);
    std::size_t reconnects = 0;
    fleet.on_reconnected([&](const Reconnection& r) {
        ++reconnects;
        EXPECT_EQ(r.cause.rfind("dev-", 0), 0U) << r.cause;  // names the device
    });
    fleet.start_connect(options());
    ASSERT_TRUE(run_until(loop_, [&] { return reconnects == 1 && fleet.in_flight() == 0; }));
    EXPECT_EQ(broker_.connects, 2U);
    EXPECT_EQ(broker_.connect_packets[1].client_id, "dev-0");
    EXPECT_EQ(received_with("s/dev-0", "online", true), 2U);  // sent again on the new one
    EXPECT_TRUE(fleet.connected());
}

TEST_F(FleetClient, TheRampOpensConnectionsAtTheConnectRate) {
    MultiClient ramped(loop_, devices(50), 100);  // 50 at 100/s: half a second
    ramped.start_connect(options());
    EXPECT_LT(ramped.connections_opened(), 50U);
    ASSERT_TRUE(run_until(loop_, [&] { return ramped.connected(); }));
    EXPECT_EQ(broker_.connects, 50U);
    MultiClient at_once(loop_, devices(30), 0);
    at_once.start_connect(options());
    EXPECT_EQ(at_once.connections_opened(), 30U);
}

TEST_F(FleetClient, AVanishedDeviceLeavesItsWillAndComesBackOnlineAfterItsDowntime) {
    MultiClient fleet(loop_, devices(2), 0);
    std::vector<Reconnection> reconnects;
    fleet.on_reconnected([&](const Reconnection& r) { reconnects.push_back(r); });
    fleet.start_connect(options());
    ASSERT_TRUE(run_until(loop_, [&] { return fleet.connected() && fleet.in_flight() == 0; }));
    ASSERT_TRUE(fleet.vanish_for("t/dev-1", 200ms));
    EXPECT_FALSE(fleet.connected());
    EXPECT_FALSE(fleet.vanish_for("t/dev-1", 200ms)) << "already gone";
    ASSERT_TRUE(run_until(loop_, [&] { return !broker_.wills.empty(); }));
    EXPECT_EQ(broker_.wills[0].client_id, "dev-1");  // no DISCONNECT: the broker says offline
    EXPECT_EQ(broker_.wills[0].payload, "offline");
    EXPECT_EQ(broker_.disconnects, 0U);
    ASSERT_TRUE(run_until(loop_, [&] { return fleet.connected() && fleet.in_flight() == 0; }));
    ASSERT_EQ(reconnects.size(), 1U);
    EXPECT_TRUE(reconnects[0].deliberate);
    EXPECT_GE(reconnects[0].outage_s, 0.2);
    EXPECT_EQ(broker_.connect_packets.back().client_id, "dev-1");
    EXPECT_EQ(received_with("s/dev-1", "online", true), 2U);
    EXPECT_EQ(received_with("s/dev-0", "online", true), 1U) << "the other device stayed";
}

TEST_F(FleetClient, WhatAVanishedDeviceHadInFlightIsSentAgainWhenItReturns) {
    MultiClient fleet(loop_, devices(1), 0);
    std::size_t confirmed = 0;
    fleet.on_confirmed([&](const Confirmation&) { ++confirmed; });
    fleet.start_connect(options());
    ASSERT_TRUE(run_until(loop_, [&] { return fleet.connected() && fleet.in_flight() == 0; }));
    ASSERT_TRUE(fleet.publish("t/dev-0", "reading-1", QoS::AtLeastOnce));
    ASSERT_TRUE(fleet.vanish_for("t/dev-0", 50ms));  // before the PUBACK could come
    EXPECT_FALSE(fleet.publish("t/dev-0", "reading-2", QoS::AtLeastOnce)) << "while away";
    ASSERT_TRUE(run_until(loop_, [&] { return confirmed == 1 && fleet.connected(); }));
    EXPECT_EQ(received_with("t/dev-0", "reading-1", false), 1U);
    EXPECT_EQ(fleet.in_flight(), 0U);
}

TEST_F(FleetClient, NoneOrMoreThanTheIdsCanNameAreRefused) {
    EXPECT_THROW(MultiClient(loop_, {}, 0), std::invalid_argument);
    EXPECT_THROW(
        MultiClient(loop_, std::vector<ConnectionPlan>(MultiClient::kMaxConnections + 1), 0),
        std::invalid_argument);
}

}  // namespace
}  // namespace mqtt

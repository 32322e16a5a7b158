#pragma once
// One Client over many MQTT connections on one event loop: a fleet in which every device (or
// every group of devices) is a connection of its own, with its own client id, last will and
// reconnects, as real devices are. publish() routes by topic to the connection that owns it;
// start_subscribe() and topics no connection owns use the first connection, a plan's own
// subscriptions its connection; messages received on any connection are delivered.
//
// Ids: a message's PublishId is (connection << 32) | the connection's own id (which is below
// 2^32). At most 65,536 connections (a process here is limited to ~20,000 open files anyway).

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "mqtt/client.hpp"
#include "net/event_loop.hpp"

namespace mqtt {

struct ConnectionPlan {
    std::string client_id;
    std::vector<std::string> topics;  // the topics this connection publishes
    std::optional<WillOptions> will;  // overrides ConnectOptions::will
    // Published retained at QoS 1 after every accepted CONNACK ("online" beside an "offline"
    // will); its confirmation is not reported as a message's.
    std::optional<std::pair<std::string, std::string>> birth;  // topic, payload
    std::string bind_address;  // overrides ConnectOptions::bind_address
    // This connection's own subscriptions at QoS 1 (a device's command topic), made when it
    // connects and again after a reconnect that lost the session; its messages are delivered
    // like the first connection's.
    std::vector<std::string> subscriptions;
    // Its own way to the broker (a profile group's host), shared by the group's connections;
    // none: the ConnectOptions'.
    std::shared_ptr<const BrokerEndpoint> endpoint;
    // The cluster node it connects to first: an index into broker_list(ConnectOptions) (or the
    // endpoint's nodes); the other nodes follow it as its failover.
    std::size_t broker{0};
};

class MultiClient final : public Client {
  public:
    static constexpr std::size_t kMaxConnections = 65536;

    // connect_rate: connections opened per second while the fleet ramps up (0: all at once).
    // Throws std::invalid_argument for no plans or more than kMaxConnections.
    MultiClient(net::EventLoop& loop, std::vector<ConnectionPlan> plans, double connect_rate);
    ~MultiClient() override;

    void start_connect(const ConnectOptions& options) override;
    // Every connection is up (the ramp is over and none is reconnecting).
    bool connected() const override { return opened_ == plans_.size() && up_ == plans_.size(); }
    SubscribeId start_subscribe(const std::vector<std::string>& filters, QoS qos) override;
    std::optional<PublishId> publish(std::string_view topic, std::string_view payload,
                                     QoS qos) override;
    std::optional<PublishId> publish_with_properties(
        std::string_view topic, std::string_view payload, QoS qos,
        std::span<const UserProperty> properties) override;
    std::optional<PublishId> publish_retained(std::string_view topic, std::string_view payload,
                                              QoS qos) override;
    std::optional<PublishId> publish_correlated(std::string_view topic, std::string_view payload,
                                                QoS qos, const Correlation& correlation) override;
    // Drops the connection that owns `topic` (a device that loses power) and brings it back
    // after `away`.
    bool vanish_for(std::string_view topic, std::chrono::milliseconds away) override;
    void poll(std::chrono::microseconds timeout) override;
    std::size_t in_flight() const override { return in_flight_; }
    std::size_t window() const override { return window_; }
    // Every connection's broker stated it (one that fell back to 3.1.1 did not).
    bool broker_states_window() const override;
    std::string protocol_description() const override;
    using Client::disconnect;
    void disconnect(SessionAfter after) noexcept override;

    bool subscriptions_acknowledged() const override { return acknowledged_ == subscribing_; }

    std::size_t connections() const { return plans_.size(); }
    std::size_t connections_up() const { return up_; }
    std::size_t connections_opened() const { return opened_; }

  private:
    struct Member;
    // Hands the message to the connection that owns `topic` (or to connection `through`).
    std::optional<PublishId> routed(std::string_view topic, std::string_view payload, QoS qos,
                                    std::span<const UserProperty> properties, bool retain,
                                    const Correlation* correlation = nullptr,
                                    std::optional<std::size_t> through = std::nullopt);
    // The connection that publishes `topic`: the first for topics none owns.
    std::size_t owner_of(std::string_view topic) const;
    void open_due();  // the ramp: opens the connections due by now
    void member_connected(std::size_t index);
    // A member's step: its first SUBACK acknowledges its plan's subscriptions, or refuses them.
    void member_step(std::size_t index, const StepTiming& step);
    void member_lost(std::size_t index);
    // After a CONNACK, from the loop: its own subscriptions (once) and its birth message.
    void publish_births();
    void throw_if_failed() const {
        if (failure_) throw *failure_;
    }

    net::EventLoop& loop_;
    std::vector<ConnectionPlan> plans_;
    double connect_rate_;
    ConnectOptions options_;
    std::vector<std::unique_ptr<Member>> members_;
    std::unordered_map<std::string, std::uint32_t> route_;          // topic -> connection
    std::unordered_map<std::string, std::uint32_t> subscriber_of_;  // own filter -> connection
    std::size_t opened_{0};
    std::size_t up_{0};
    std::size_t subscribing_{0}, acknowledged_{0};  // members with subscriptions; with SUBACK
    std::size_t in_flight_{0};
    std::size_t window_{0};
    net::EventLoop::Clock::time_point ramp_start_{};
    std::optional<net::EventLoop::TimerId> ramp_timer_;
    std::vector<std::size_t> births_due_;  // connected; birth or own subscriptions still to make
    std::optional<net::EventLoop::TimerId> birth_timer_;
    std::optional<Error> failure_;
};

}  // namespace mqtt

#pragma once
// A Client with a scripted broker behind it, for unit tests of the run objects: no socket, no
// engine. Publishes are recorded and answered as `broker` says on the next poll(); messages in
// `inbox` are delivered on poll(), a batch at a time.

#include <deque>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "mqtt/client.hpp"

namespace testing_support {

class FakeClient final : public mqtt::Client {
  public:
    enum class Broker { Confirming, Silent, Refusing };
    struct Published {
        std::string topic;
        std::string payload;
        mqtt::QoS qos;
        mqtt::PublishId id;
    };

    // The script.
    Broker broker{Broker::Confirming};
    mqtt::ReasonCode refusal{mqtt::ReasonCode::NotAuthorized};
    std::optional<mqtt::Error> connect_error;  // the connect fails with this
    std::vector<mqtt::ReasonCode> suback;      // empty: every filter granted QoS 1
    // After this many telemetry publishes, poll() reports the connection lost.
    std::optional<std::size_t> lose_connection_after;
    std::size_t window_size{10};
    bool states_window{true};  // false: an MQTT 3.1.1 broker, which cannot state its window
    std::deque<std::pair<std::string, std::string>> inbox;  // topic, payload
    // Topics whose connection is down (a fleet's device): publish() refuses them.
    std::set<std::string> down_topics;
    std::size_t deliveries_per_poll{100};
    // For this long after connecting, polls confirm nothing and take their whole timeout: a
    // broker that stalls (by time, since a paced run polls with microsecond timeouts).
    std::chrono::milliseconds stall{0};
    // The first poll with messages waiting returns after this long without delivering them: a
    // process suspended (SIGSTOP) whose poll then ends with EINTR, nothing read yet.
    std::chrono::milliseconds suspend{0};
    // Called for every publish, e.g. to answer a request with a message in the inbox.
    std::function<void(const std::string& topic, const std::string& payload)> on_publish;

    // What happened.
    std::vector<Published> published;
    std::vector<std::string> filters;  // of every subscribe, in order
    std::size_t max_in_flight{0};
    std::size_t polls{0};
    bool disconnected{false};
    bool session_kept{false};  // the last disconnect kept a persistent session
    std::size_t batches{0};    // read batches ended (after each poll that delivered)

    void start_connect(const mqtt::ConnectOptions& options) override { options_ = options; }
    bool connected() const override { return connected_; }
    mqtt::SubscribeId start_subscribe(const std::vector<std::string>& f, mqtt::QoS) override {
        filters.insert(filters.end(), f.begin(), f.end());
        std::vector<mqtt::ReasonCode> reasons = suback;
        if (reasons.empty()) reasons.assign(f.size(), mqtt::ReasonCode::GrantedQos1);
        const auto id = static_cast<mqtt::SubscribeId>(++last_id_);
        subscribed(id, std::move(reasons));
        return id;
    }
    std::optional<mqtt::PublishId> publish(std::string_view topic, std::string_view payload,
                                           mqtt::QoS qos) override {
        if (in_flight_.size() >= window_size || down_topics.count(std::string(topic)) != 0)
            return std::nullopt;
        const mqtt::PublishId id = ++last_id_;
        published.push_back({std::string(topic), std::string(payload), qos, id});
        if (on_publish) on_publish(published.back().topic, published.back().payload);
        in_flight_.push_back({id, std::chrono::steady_clock::now()});
        max_in_flight = std::max(max_in_flight, in_flight_.size());
        return id;
    }
    // An answer leaves by its request's connection: refused while that topic's is down.
    std::optional<mqtt::PublishId> publish_correlated(std::string_view topic,
                                                      std::string_view payload, mqtt::QoS qos,
                                                      const mqtt::Correlation& c) override {
        if (down_topics.count(std::string(c.request_topic)) != 0) return std::nullopt;
        return publish(topic, payload, qos);
    }
    void poll(std::chrono::microseconds timeout) override {
        ++polls;
        if (!connected_) {
            if (connect_error) throw *connect_error;
            connected_ = true;
            stall_until_ = std::chrono::steady_clock::now() + stall;
            return;
        }
        if (const auto now = std::chrono::steady_clock::now(); now < stall_until_) {
            std::this_thread::sleep_for(
                std::min<std::chrono::steady_clock::duration>(timeout, stall_until_ - now));
            return;
        }
        if (lose_connection_after && published.size() >= *lose_connection_after)
            throw mqtt::broker_error(mqtt::ErrorKind::ConnectionLost, options_.host, options_.port,
                                     "connection lost: scripted");
        if (suspend.count() > 0 && !inbox.empty() && !filters.empty()) {
            std::this_thread::sleep_for(std::exchange(suspend, std::chrono::milliseconds(0)));
            return;
        }
        answer_publishes();
        for (std::size_t i = 0; i < deliveries_per_poll && !inbox.empty(); ++i) {
            const auto [topic, payload] = inbox.front();
            inbox.pop_front();
            deliver({topic, payload, mqtt::QoS::AtLeastOnce, false});
        }
        ++batches;
        batch_ended();
    }
    std::size_t in_flight() const override { return in_flight_.size(); }
    std::size_t window() const override { return window_size; }
    bool broker_states_window() const override { return states_window; }
    std::string protocol_description() const override { return "fake"; }
    using mqtt::Client::disconnect;
    void disconnect(SessionAfter after) noexcept override {
        disconnected = true;
        session_kept = after == SessionAfter::Keep;
    }
    bool acknowledges_after_batch_end() const override { return true; }

  private:
    void answer_publishes() {
        if (broker == Broker::Silent) return;
        const auto reason = broker == Broker::Refusing ? refusal : mqtt::ReasonCode::Success;
        while (!in_flight_.empty()) {
            const auto [id, at] = in_flight_.front();
            in_flight_.pop_front();
            confirm({id, reason, at});
        }
    }

    mqtt::ConnectOptions options_;
    bool connected_{false};
    std::chrono::steady_clock::time_point stall_until_{};
    mqtt::PublishId last_id_{0};
    std::deque<std::pair<mqtt::PublishId, std::chrono::steady_clock::time_point>> in_flight_;
};

}  // namespace testing_support

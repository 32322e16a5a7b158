#include "mqtt/multi_client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "mqtt/engines.hpp"

namespace mqtt {

using LoopClock = net::EventLoop::Clock;

namespace {
// The ramp opens connections in slices this far apart.
constexpr auto kRampStep = std::chrono::milliseconds(10);

PublishId combined(std::size_t index, PublishId id) {
    return (static_cast<PublishId>(index) << 32) | (id & 0xFFFF'FFFFu);
}
}  // namespace

// One connection of the fleet, and whether it is up.
struct MultiClient::Member {
    std::unique_ptr<Client> client;
    bool up{false};
    std::optional<PublishId> birth_id;  // its birth message, while unconfirmed
    bool subscribed{false};             // its plan's subscriptions were made (the engine
                                        // makes them again after a reconnect)
    bool acknowledged{false};           // and their SUBACK came
};

MultiClient::MultiClient(net::EventLoop& loop, std::vector<ConnectionPlan> plans,
                         double connect_rate)
    : loop_(loop), plans_(std::move(plans)), connect_rate_(connect_rate) {
    if (plans_.empty() || plans_.size() > kMaxConnections)
        throw std::invalid_argument(
            fmt::format("{} connections: 1 to {} are possible", plans_.size(), kMaxConnections));
    for (std::size_t i = 0; i < plans_.size(); ++i) {
        for (const std::string& topic : plans_[i].topics)
            route_.emplace(topic, static_cast<std::uint32_t>(i));
        for (const std::string& filter : plans_[i].subscriptions)
            subscriber_of_.emplace(filter, static_cast<std::uint32_t>(i));
        subscribing_ += plans_[i].subscriptions.empty() ? 0 : 1;
    }
}

MultiClient::~MultiClient() {
    if (ramp_timer_) loop_.cancel(*ramp_timer_);
    if (birth_timer_) loop_.cancel(*birth_timer_);
}

void MultiClient::start_connect(const ConnectOptions& options) {
    options_ = options;
    ramp_start_ = LoopClock::now();
    open_due();
}

void MultiClient::open_due() {
    ramp_timer_.reset();
    const double elapsed_s = std::chrono::duration<double>(LoopClock::now() - ramp_start_).count();
    const std::size_t due =
        connect_rate_ <= 0
            ? plans_.size()
            : std::min(plans_.size(), static_cast<std::size_t>(1 + elapsed_s * connect_rate_));
    for (; opened_ < due; ++opened_) {
        const std::size_t index = opened_;
        const ConnectionPlan& plan = plans_[index];
        auto member = std::make_unique<Member>();
        member->client = make_native_client(loop_);
        Client& c = *member->client;
        c.on_connected([this, index] { member_connected(index); });
        c.on_failed([this, index](const Error& e) {
            if (!failure_)
                failure_ =
                    Error(e.kind(), fmt::format("{}: {}", plans_[index].client_id, e.what()));
        });
        c.on_reconnected([this, index](const Reconnection& r) {
            Reconnection named = r;
            named.cause = plans_[index].client_id + ": " + r.cause;
            reconnected(named);
        });
        c.on_confirmed([this, index](const Confirmation& confirmation) {
            Member& m = *members_[index];
            --in_flight_;
            if (m.birth_id && *m.birth_id == confirmation.id) {
                m.birth_id.reset();
                return;
            }
            Confirmation outer = confirmation;
            outer.id = combined(index, confirmation.id);
            confirm(outer);
        });
        if (index == 0 || !plan.subscriptions.empty())
            c.on_message([this](const Message& m) { deliver(m); });
        if (!plan.subscriptions.empty())
            c.on_step_timed([this, index](const StepTiming& t) { member_step(index, t); });
        if (index == 0) c.on_batch_end([this] { batch_ended(); });
        ConnectOptions o =
            starting_at(plan.endpoint ? through(options_, *plan.endpoint) : options_, plan.broker);
        o.client_id = plan.client_id;
        if (plan.will) o.will = plan.will;
        if (!plan.bind_address.empty()) o.bind_address = plan.bind_address;
        members_.push_back(std::move(member));
        c.start_connect(o);
    }
    if (opened_ < plans_.size())
        ramp_timer_ = loop_.add_timer(LoopClock::now() + kRampStep, [this] { open_due(); });
}

void MultiClient::member_connected(std::size_t index) {
    Member& m = *members_[index];
    if (!m.up) ++up_;
    m.up = true;
    if (up_ == plans_.size()) {
        window_ = 0;
        for (const auto& member : members_) window_ += member->client->window();
    }
    const ConnectionPlan& plan = plans_[index];
    if ((!plan.birth || m.birth_id) && (plan.subscriptions.empty() || m.subscribed)) return;
    // Not from inside the engine's CONNACK handling: from the loop, right after it.
    births_due_.push_back(index);
    if (!birth_timer_)
        birth_timer_ = loop_.add_timer(LoopClock::now(), [this] { publish_births(); });
}

void MultiClient::member_step(std::size_t index, const StepTiming& step) {
    Member& m = *members_[index];
    if (step.step != StepTiming::Step::Suback || m.acknowledged) return;
    if (is_failure(step.reason)) {
        if (!failure_)
            failure_ = suback_refusal(
                options_.host, options_.port,
                plans_[index].client_id + ": " + plans_[index].subscriptions.front(), step.reason);
        return;
    }
    m.acknowledged = true;
    ++acknowledged_;
}

void MultiClient::publish_births() {
    birth_timer_.reset();
    for (const std::size_t index : std::exchange(births_due_, {})) {
        Member& m = *members_[index];
        if (!m.client->connected()) continue;
        if (!m.subscribed && !plans_[index].subscriptions.empty()) {
            m.client->start_subscribe(plans_[index].subscriptions, QoS::AtLeastOnce);
            m.subscribed = true;
        }
        if (!plans_[index].birth || m.birth_id) continue;
        const auto& birth = *plans_[index].birth;
        // Retained, so a consumer that subscribes later still sees the device online.
        m.birth_id = m.client->publish_retained(birth.first, birth.second, QoS::AtLeastOnce);
        if (m.birth_id) ++in_flight_;
    }
}

void MultiClient::member_lost(std::size_t index) {
    Member& m = *members_[index];
    if (m.up) --up_;
    m.up = false;
}

SubscribeId MultiClient::start_subscribe(const std::vector<std::string>& filters, QoS qos) {
    return members_.at(0)->client->start_subscribe(filters, qos);
}

std::optional<PublishId> MultiClient::publish(std::string_view topic, std::string_view payload,
                                              QoS qos) {
    return publish_with_properties(topic, payload, qos, {});
}

std::optional<PublishId> MultiClient::publish_with_properties(
    std::string_view topic, std::string_view payload, QoS qos,
    std::span<const UserProperty> properties) {
    return routed(topic, payload, qos, properties, false);
}

std::optional<PublishId> MultiClient::publish_retained(std::string_view topic,
                                                       std::string_view payload, QoS qos) {
    return routed(topic, payload, qos, {}, true);
}

std::optional<PublishId> MultiClient::publish_correlated(std::string_view topic,
                                                         std::string_view payload, QoS qos,
                                                         const Correlation& correlation) {
    const auto via = subscriber_of_.find(std::string(correlation.request_topic));
    return routed(topic, payload, qos, {}, false, &correlation,
                  via == subscriber_of_.end() ? owner_of(topic) : via->second);
}

std::optional<PublishId> MultiClient::routed(std::string_view topic, std::string_view payload,
                                             QoS qos, std::span<const UserProperty> properties,
                                             bool retain, const Correlation* correlation,
                                             std::optional<std::size_t> through) {
    throw_if_failed();
    const std::size_t index = through ? *through : owner_of(topic);
    if (index >= members_.size()) return std::nullopt;  // not yet opened by the ramp
    Member& m = *members_[index];
    if (!m.client->connected()) {
        member_lost(index);  // learnt here: the engine reconnects it
        return std::nullopt;
    }
    const auto id = retain        ? m.client->publish_retained(topic, payload, qos)
                    : correlation ? m.client->publish_correlated(topic, payload, qos, *correlation)
                    : properties.empty()
                        ? m.client->publish(topic, payload, qos)
                        : m.client->publish_with_properties(topic, payload, qos, properties);
    if (!id) return std::nullopt;
    ++in_flight_;
    return combined(index, *id);
}

std::size_t MultiClient::owner_of(std::string_view topic) const {
    const auto route = route_.find(std::string(topic));
    return route == route_.end() ? 0 : route->second;
}

bool MultiClient::vanish_for(std::string_view topic, std::chrono::milliseconds away) {
    const std::size_t index = owner_of(topic);
    if (index >= members_.size() || !members_[index]->client->vanish_for(topic, away)) return false;
    member_lost(index);
    return true;
}

void MultiClient::poll(std::chrono::microseconds timeout) {
    throw_if_failed();
    loop_.run_once(timeout);
    throw_if_failed();
}

bool MultiClient::broker_states_window() const {
    return std::all_of(members_.begin(), members_.end(),
                       [](const auto& m) { return m->client->broker_states_window(); });
}

std::string MultiClient::protocol_description() const {
    const std::string first =
        members_.empty() ? std::string("MQTT") : members_[0]->client->protocol_description();
    return fmt::format("{}, {} connections", first, plans_.size());
}

void MultiClient::disconnect(SessionAfter after) noexcept {
    if (ramp_timer_) loop_.cancel(*ramp_timer_);
    if (birth_timer_) loop_.cancel(*birth_timer_);
    ramp_timer_.reset();
    birth_timer_.reset();
    for (std::size_t i = 0; i < members_.size(); ++i) {
        Client& c = *members_[i]->client;
        // A device that leaves in order says so itself; its will is for vanishing.
        if (const auto& will = plans_[i].will; will && c.connected()) try {
                (void)c.publish_retained(will->topic, will->payload, will->qos);
            } catch (const Error&) {  // best effort: disconnect() never throws
            }
        c.disconnect(after);
    }
    up_ = 0;
}

}  // namespace mqtt

#include "mqtt/client.hpp"

#include <fmt/format.h>

namespace mqtt {

std::vector<BrokerAddress> broker_list(const ConnectOptions& options) {
    std::vector<BrokerAddress> list{{options.host, options.port}};
    list.insert(list.end(), options.failover.begin(), options.failover.end());
    return list;
}

namespace {
std::string transport_name(bool tls, bool websocket) {
    if (websocket) return tls ? "wss" : "ws";
    return tls ? "tls" : "tcp";
}
}  // namespace

std::string transport_name(const ConnectOptions& options) {
    return transport_name(options.tls.has_value(), options.websocket.has_value());
}

std::string transport_name(const BrokerEndpoint& endpoint) {
    return transport_name(endpoint.tls.has_value(), endpoint.websocket.has_value());
}

ConnectOptions through(ConnectOptions options, const BrokerEndpoint& endpoint) {
    options.host = endpoint.nodes.front().host;
    options.port = endpoint.nodes.front().port;
    options.failover.assign(endpoint.nodes.begin() + 1, endpoint.nodes.end());
    options.tls = endpoint.tls;
    options.websocket = endpoint.websocket;
    return options;
}

ConnectOptions starting_at(ConnectOptions options, std::size_t index) {
    const std::vector<BrokerAddress> list = broker_list(options);
    const BrokerAddress& first = list[index % list.size()];
    options.host = first.host;
    options.port = first.port;
    options.failover.clear();
    for (std::size_t i = 1; i < list.size(); ++i)
        options.failover.push_back(list[(index + i) % list.size()]);
    return options;
}

std::optional<PublishId> Client::publish_with_properties(std::string_view, std::string_view, QoS,
                                                         std::span<const UserProperty>) {
    throw Error(ErrorKind::Protocol, "this engine does not send MQTT 5 user properties");
}

std::optional<PublishId> Client::publish_correlated(std::string_view, std::string_view, QoS,
                                                    const Correlation&) {
    throw Error(ErrorKind::Protocol,
                "this engine does not send MQTT 5 request/response properties");
}

std::optional<PublishId> Client::publish_retained(std::string_view, std::string_view, QoS) {
    throw Error(ErrorKind::Protocol, "this engine does not publish retained messages");
}

void Client::start_unsubscribe(const std::vector<std::string>&) {
    throw Error(ErrorKind::Protocol, "this engine does not unsubscribe");
}

bool Client::vanish_for(std::string_view, std::chrono::milliseconds) {
    throw Error(ErrorKind::Protocol, "this engine cannot drop its connection on purpose");
}

template <typename Done>
void Client::wait_for(Done done, std::chrono::milliseconds limit, std::string_view what) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            throw broker_error(ErrorKind::Unreachable, host_, port_,
                               fmt::format("no {} within {} ms", what, limit.count()));
        poll(std::min(left, std::chrono::milliseconds(100)));
    }
}

void Client::connect(const ConnectOptions& options) {
    host_ = options.host;
    port_ = options.port;
    connect_timeout_ = options.connect_timeout;
    start_connect(options);
    // Engines enforce connect_timeout themselves (per node of the list) with a precise reason;
    // this is the backstop.
    const auto nodes = static_cast<std::int64_t>(1 + options.failover.size());
    wait_for([this] { return connected(); },
             options.connect_timeout * nodes + std::chrono::seconds(1), "CONNACK");
}

void Client::subscribe(const std::vector<std::string>& filters, QoS qos) {
    const SubscribeId id = start_subscribe(filters, qos);
    wait_for([&] { return subacks_.count(id) != 0; }, connect_timeout_, "SUBACK");
    const std::vector<ReasonCode> reasons = std::move(subacks_[id]);
    subacks_.erase(id);
    for (std::size_t i = 0; i < filters.size(); ++i) {
        // A SUBACK with fewer codes than filters breaks [MQTT-3.8.4-6]: treat as refused.
        const ReasonCode r = i < reasons.size() ? reasons[i] : ReasonCode::ProtocolError;
        if (is_failure(r)) throw suback_refusal(host_, port_, filters[i], r);
    }
}

}  // namespace mqtt

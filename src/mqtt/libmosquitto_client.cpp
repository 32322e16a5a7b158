// The libmosquitto engine: the only file that includes <mosquitto.h>. It runs libmosquitto
// without its own thread (mosquitto_loop on the caller's thread), so callbacks arrive inside
// poll() and nothing needs a lock. It is the reference engine, not the fast one: its TCP
// connect and name resolution block (mosquitto_connect), so it carries one client per thread.

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <span>
#include <unordered_map>

#include <fmt/format.h>

#include "mqtt/engines.hpp"
#include "net/event_loop.hpp"

namespace mqtt {
namespace {

// libmosquitto's property list for one PUBLISH, freed with it.
class PropertyList {
  public:
    explicit PropertyList(std::span<const UserProperty> properties) {
        for (const UserProperty& p : properties) {
            const std::string key(p.key), value(p.value);  // libmosquitto takes C strings
            if (mosquitto_property_add_string_pair(&list_, MQTT_PROP_USER_PROPERTY, key.c_str(),
                                                   value.c_str()) != MOSQ_ERR_SUCCESS) {
                mosquitto_property_free_all(&list_);
                throw Error(ErrorKind::Protocol, "cannot add a user property: out of memory");
            }
        }
    }
    // A request's Response Topic and Correlation Data, or an answer's Correlation Data.
    explicit PropertyList(const Correlation& c) {
        const std::string response(c.response_topic);
        const bool ok =
            (response.empty() ||
             mosquitto_property_add_string(&list_, MQTT_PROP_RESPONSE_TOPIC, response.c_str()) ==
                 MOSQ_ERR_SUCCESS) &&
            (c.correlation_data.empty() ||
             mosquitto_property_add_binary(
                 &list_, MQTT_PROP_CORRELATION_DATA, c.correlation_data.data(),
                 static_cast<std::uint16_t>(c.correlation_data.size())) == MOSQ_ERR_SUCCESS);
        if (!ok) {
            mosquitto_property_free_all(&list_);
            throw Error(ErrorKind::Protocol,
                        "cannot add the correlation properties: out of memory");
        }
    }
    ~PropertyList() { mosquitto_property_free_all(&list_); }
    PropertyList(const PropertyList&) = delete;  // owns the list
    PropertyList& operator=(const PropertyList&) = delete;
    const mosquitto_property* get() const { return list_; }

  private:
    mosquitto_property* list_{nullptr};
};

// The user properties of a received message, copied out of libmosquitto's list (which hands
// them out as malloc'd strings) for the handler's views.
class ReceivedProperties {
  public:
    std::span<const UserProperty> read(const mosquitto_property* list) {
        owned_.clear();
        response_topic_.clear();
        correlation_data_.clear();
        for (const mosquitto_property* p = list; p != nullptr; p = mosquitto_property_next(p)) {
            const int id = mosquitto_property_identifier(p);
            if (id == MQTT_PROP_RESPONSE_TOPIC || id == MQTT_PROP_CORRELATION_DATA) {
                read_correlation(p, id);
                continue;
            }
            if (id != MQTT_PROP_USER_PROPERTY) continue;
            char* key = nullptr;
            char* value = nullptr;
            mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &key, &value, false);
            owned_.emplace_back(key != nullptr ? key : "", value != nullptr ? value : "");
            std::free(key);
            std::free(value);
        }
        views_.clear();
        for (const auto& [key, value] : owned_) views_.push_back({key, value});
        return views_;
    }

    const std::string& response_topic() const { return response_topic_; }
    const std::string& correlation_data() const { return correlation_data_; }

  private:
    void read_correlation(const mosquitto_property* p, int id) {
        if (id == MQTT_PROP_RESPONSE_TOPIC) {
            char* topic = nullptr;
            mosquitto_property_read_string(p, id, &topic, false);
            response_topic_ = topic != nullptr ? topic : "";
            std::free(topic);
            return;
        }
        void* data = nullptr;
        std::uint16_t length = 0;
        mosquitto_property_read_binary(p, id, &data, &length, false);
        correlation_data_.assign(static_cast<const char*>(data), data != nullptr ? length : 0);
        std::free(data);
    }

    std::vector<std::pair<std::string, std::string>> owned_;
    std::vector<UserProperty> views_;
    std::string response_topic_, correlation_data_;
};

// mosquitto_lib_init/cleanup once per process, for as long as any client exists.
class LibraryUse {
  public:
    LibraryUse() {
        std::lock_guard lock(mutex_);
        if (users_++ == 0) mosquitto_lib_init();
    }
    ~LibraryUse() {
        std::lock_guard lock(mutex_);
        if (--users_ == 0) mosquitto_lib_cleanup();
    }
    LibraryUse(const LibraryUse&) = delete;  // one count per owner
    LibraryUse& operator=(const LibraryUse&) = delete;

  private:
    static inline std::mutex mutex_;
    static inline int users_ = 0;
};

class LibmosquittoClient final : public Client {
  public:
    explicit LibmosquittoClient(net::EventLoop* side_loop) : side_loop_(side_loop) {}
    ~LibmosquittoClient() override { destroy(); }

    void start_connect(const ConnectOptions& options) override;
    bool connected() const override { return connected_; }
    SubscribeId start_subscribe(const std::vector<std::string>& filters, QoS qos) override;
    std::optional<PublishId> publish(std::string_view topic, std::string_view payload,
                                     QoS qos) override {
        return publish_with_properties(topic, payload, qos, {});
    }
    std::optional<PublishId> publish_with_properties(
        std::string_view topic, std::string_view payload, QoS qos,
        std::span<const UserProperty> properties) override;
    std::optional<PublishId> publish_correlated(std::string_view topic, std::string_view payload,
                                                QoS qos, const Correlation& c) override;
    void poll(std::chrono::microseconds timeout) override;
    std::size_t in_flight() const override { return published_at_.size(); }
    std::size_t window() const override { return options_.max_inflight; }
    bool broker_states_window() const override { return version_ == ProtocolVersion::V5; }
    std::string protocol_description() const override {
        if (fell_back_) return "MQTT 3.1.1 (libmosquitto; the broker refused MQTT 5)";
        return version_ == ProtocolVersion::V5 ? "MQTT 5 (libmosquitto)"
                                               : "MQTT 3.1.1 (libmosquitto)";
    }
    using Client::disconnect;
    // libmosquitto ends no session on DISCONNECT: it sends no Session Expiry.
    void disconnect(SessionAfter after) noexcept override;

  private:
    std::optional<PublishId> publish_listed(std::string_view topic, std::string_view payload,
                                            QoS qos, const PropertyList& list);
    static LibmosquittoClient& self(void* userdata) {
        return *static_cast<LibmosquittoClient*>(userdata);
    }
    Error error(ErrorKind kind, const std::string& reason) const {
        return broker_error(kind, options_.host, options_.port, reason);
    }
    void destroy() {
        if (mosq_ != nullptr) mosquitto_destroy(mosq_);
        mosq_ = nullptr;
    }
    // Creates the handle for `version` and connects the socket (blocking); records failures.
    void open(ProtocolVersion version);
    // Hands --cafile and the other TLS options to libmosquitto's own TLS calls.
    bool configure_tls();
    Error tls_failure() const {
        return error(ErrorKind::Tls, "TLS handshake failed: " +
                                         (last_error_log_.empty() ? std::string("no reason given")
                                                                  : last_error_log_));
    }
    void set_callbacks();
    // While waiting for the CONNACK: accept it, refuse, or fall back to 3.1.1.
    void settle_connack(int loop_rc);
    bool fall_back_to_v311();
    void throw_if_failed() const {
        if (failure_) throw *failure_;
    }

    LibraryUse library_;
    mosquitto* mosq_{nullptr};
    ConnectOptions options_;
    ProtocolVersion version_{ProtocolVersion::V5};
    bool fell_back_{false};
    // Publish time of each message in flight, by libmosquitto's message id.
    std::unordered_map<int, std::chrono::steady_clock::time_point> published_at_;
    ReceivedProperties received_properties_;  // of the message being delivered
    std::string topic_;                       // NUL-terminated copy for the C API
    std::optional<int> connack_code_;
    std::string last_error_log_;  // libmosquitto's last error line (it logs TLS failures)
    bool connected_{false};
    std::optional<Error> failure_;
    net::EventLoop* side_loop_{nullptr};  // the program's other watchers, run after each poll
};

void LibmosquittoClient::set_callbacks() {
    mosquitto_log_callback_set(mosq_, [](mosquitto*, void* ud, int level, const char* text) {
        if (level == MOSQ_LOG_ERR && text != nullptr) self(ud).last_error_log_ = text;
    });
    mosquitto_connect_callback_set(
        mosq_, [](mosquitto*, void* ud, int rc) { self(ud).connack_code_ = rc; });
    mosquitto_subscribe_callback_set(
        mosq_, [](mosquitto*, void* ud, int mid, int count, const int* granted) {
            std::vector<ReasonCode> reasons;
            reasons.reserve(static_cast<std::size_t>(count));
            for (int i = 0; i < count; ++i) reasons.push_back(static_cast<ReasonCode>(granted[i]));
            self(ud).subscribed(static_cast<SubscribeId>(mid), std::move(reasons));
        });
    mosquitto_publish_v5_callback_set(
        mosq_, [](mosquitto*, void* ud, int mid, int reason, const mosquitto_property*) {
            auto& c = self(ud);
            const auto it = c.published_at_.find(mid);
            if (it == c.published_at_.end()) return;
            const auto at = it->second;
            c.published_at_.erase(it);
            c.confirm({static_cast<PublishId>(mid), static_cast<ReasonCode>(reason), at});
        });
    mosquitto_message_v5_callback_set(mosq_, [](mosquitto*, void* ud, const mosquitto_message* m,
                                                const mosquitto_property* properties) {
        auto& c = self(ud);
        ReceivedProperties& received = c.received_properties_;
        const auto user = received.read(properties);
        c.deliver(
            Message{m->topic,
                    {static_cast<const char*>(m->payload), static_cast<std::size_t>(m->payloadlen)},
                    static_cast<QoS>(m->qos),
                    m->retain,
                    user,
                    received.response_topic(),
                    received.correlation_data()});
    });
    mosquitto_disconnect_callback_set(
        mosq_, [](mosquitto*, void* ud, int) { self(ud).connected_ = false; });
}

void LibmosquittoClient::open(ProtocolVersion version) {
    destroy();
    version_ = version;
    connack_code_.reset();
    last_error_log_.clear();
    const char* id = options_.client_id.empty() ? nullptr : options_.client_id.c_str();
    mosq_ = mosquitto_new(id, options_.clean_session, this);
    if (mosq_ == nullptr) {
        failure_ = error(ErrorKind::Protocol, "cannot create a libmosquitto client");
        return;
    }
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION,
                         version == ProtocolVersion::V5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
    // Let our window, not libmosquitto's default of 20, bound what is in flight.
    mosquitto_max_inflight_messages_set(mosq_, static_cast<unsigned>(options_.max_inflight));
    if (options_.username) {
        const char* pw = options_.password ? options_.password->c_str() : nullptr;
        mosquitto_username_pw_set(mosq_, options_.username->c_str(), pw);
    }
    if (options_.will)
        mosquitto_will_set(mosq_, options_.will->topic.c_str(),
                           static_cast<int>(options_.will->payload.size()),
                           options_.will->payload.data(), static_cast<int>(options_.will->qos),
                           options_.will->retain);
    set_callbacks();
    if (options_.tls && !configure_tls()) return;
    errno = 0;
    const int rc = mosquitto_connect_bind(
        mosq_, options_.host.c_str(), options_.port, static_cast<int>(options_.keepalive.count()),
        options_.bind_address.empty() ? nullptr : options_.bind_address.c_str());
    if (rc == MOSQ_ERR_SUCCESS) return;
    const int err = errno;
    if (rc == MOSQ_ERR_ERRNO)
        failure_ =
            error(err == ECONNREFUSED ? ErrorKind::Refused : ErrorKind::Unreachable,
                  err == ECONNREFUSED ? "connection refused (is the broker running on that port?)"
                                      : fmt::format("unreachable ({})", std::strerror(err)));
    else if (rc == MOSQ_ERR_TLS)
        failure_ = tls_failure();
    else if (rc == MOSQ_ERR_EAI)
        failure_ = error(ErrorKind::Unreachable, "host name does not resolve");
    else
        failure_ = error(ErrorKind::Unreachable, mosquitto_strerror(rc));
}

bool LibmosquittoClient::configure_tls() {
    const TlsOptions& t = *options_.tls;
    auto c_str = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
    // As the native engine: the system's CA store when no CA is given.
    const bool os_certs = t.use_os_certs || (t.cafile.empty() && t.capath.empty());
    int rc = mosquitto_int_option(mosq_, MOSQ_OPT_TLS_USE_OS_CERTS, os_certs ? 1 : 0);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_tls_set(mosq_, c_str(t.cafile), c_str(t.capath), c_str(t.certfile),
                               c_str(t.keyfile), nullptr);
    // libmosquitto reads --tls-version as the lowest version allowed.
    if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_tls_opts_set(mosq_, 1, c_str(t.version), nullptr);
    if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_tls_insecure_set(mosq_, t.insecure);
    if (rc == MOSQ_ERR_SUCCESS && !t.alpn.empty())
        rc = mosquitto_string_option(mosq_, MOSQ_OPT_TLS_ALPN, t.alpn.c_str());
    if (rc == MOSQ_ERR_SUCCESS) return true;
    failure_ = error(ErrorKind::TlsSetup, fmt::format("libmosquitto refused the TLS settings: {}",
                                                      mosquitto_strerror(rc)));
    return false;
}

void LibmosquittoClient::start_connect(const ConnectOptions& options) {
    options_ = options;
    failure_.reset();
    connected_ = false;
    fell_back_ = false;
    published_at_.clear();
    open(options.version);
}

bool LibmosquittoClient::fall_back_to_v311() {
    // As the native engine: a 3.1.1-only broker refuses MQTT 5 with 0x84 or closes the
    // connection [MQTT-3.1.2-2].
    if (!options_.version_fallback || fell_back_ || version_ != ProtocolVersion::V5) return false;
    fell_back_ = true;
    open(ProtocolVersion::V311);
    return true;
}

void LibmosquittoClient::settle_connack(int loop_rc) {
    if (!connack_code_) {
        if (loop_rc == MOSQ_ERR_SUCCESS) return;  // still waiting
        if (loop_rc == MOSQ_ERR_TLS) {            // the handshake may finish in the loop
            failure_ = tls_failure();
            return;
        }
        if (fall_back_to_v311()) return;
        failure_ = error(ErrorKind::Protocol, fmt::format("connection closed before CONNACK ({})",
                                                          mosquitto_strerror(loop_rc)));
        return;
    }
    const int code = *connack_code_;
    if (code == 0) {
        connected_ = true;
        return;
    }
    // MQTT 3.1.1 return codes (3.2.2.3) as reason codes; MQTT 5 codes pass through.
    const ReasonCode reason = version_ == ProtocolVersion::V311
                                  ? reason_from_v311_connack(static_cast<std::uint8_t>(code))
                                        .value_or(ReasonCode::UnspecifiedError)
                                  : static_cast<ReasonCode>(code);
    if (reason == ReasonCode::UnsupportedProtocolVersion && fall_back_to_v311()) return;
    failure_ = connack_refusal(options_.host, options_.port, options_.username, reason);
}

SubscribeId LibmosquittoClient::start_subscribe(const std::vector<std::string>& filters, QoS qos) {
    throw_if_failed();
    std::vector<char*> subs;
    subs.reserve(filters.size());
    for (const std::string& f : filters) subs.push_back(const_cast<char*>(f.c_str()));
    int mid = 0;
    const int rc = mosquitto_subscribe_multiple(mosq_, &mid, static_cast<int>(subs.size()),
                                                subs.data(), static_cast<int>(qos), 0, nullptr);
    if (rc != MOSQ_ERR_SUCCESS)
        throw error(ErrorKind::Protocol,
                    fmt::format("subscribe failed: {}", mosquitto_strerror(rc)));
    return static_cast<SubscribeId>(mid);
}

std::optional<PublishId> LibmosquittoClient::publish_with_properties(
    std::string_view topic, std::string_view payload, QoS qos,
    std::span<const UserProperty> properties) {
    throw_if_failed();
    if (published_at_.size() >= options_.max_inflight) return std::nullopt;
    if (!properties.empty() && version_ != ProtocolVersion::V5)
        throw error(ErrorKind::Protocol,
                    "user properties need MQTT 5; this connection speaks "
                    "MQTT 3.1.1");
    return publish_listed(topic, payload, qos, PropertyList(properties));
}

std::optional<PublishId> LibmosquittoClient::publish_correlated(std::string_view topic,
                                                                std::string_view payload, QoS qos,
                                                                const Correlation& c) {
    throw_if_failed();
    if (published_at_.size() >= options_.max_inflight) return std::nullopt;
    const bool properties = !c.response_topic.empty() || !c.correlation_data.empty();
    if (properties && version_ != ProtocolVersion::V5)
        throw error(ErrorKind::Protocol,
                    "MQTT 3.1.1 has no Response Topic or Correlation Data (they are MQTT 5's)");
    return publish_listed(topic, payload, qos, PropertyList(c));
}

std::optional<PublishId> LibmosquittoClient::publish_listed(std::string_view topic,
                                                            std::string_view payload, QoS qos,
                                                            const PropertyList& list) {
    topic_.assign(topic);
    int mid = 0;
    const auto now = std::chrono::steady_clock::now();
    // QoS 0 counts as confirmed once handed over: libmosquitto reports its write later, if at
    // all, with an id we no longer track.
    const int rc =
        mosquitto_publish_v5(mosq_, &mid, topic_.c_str(), static_cast<int>(payload.size()),
                             payload.data(), static_cast<int>(qos), false, list.get());
    if (rc != MOSQ_ERR_SUCCESS) {
        if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST)
            throw error(ErrorKind::ConnectionLost, "connection lost");
        throw error(ErrorKind::Protocol, fmt::format("publish failed: {}", mosquitto_strerror(rc)));
    }
    if (qos == QoS::AtMostOnce)
        confirm({static_cast<PublishId>(mid), ReasonCode::Success, now});
    else
        published_at_[mid] = now;
    return static_cast<PublishId>(mid);
}

void LibmosquittoClient::poll(std::chrono::microseconds timeout) {
    throw_if_failed();
    // libmosquitto waits in whole milliseconds.
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout);
    const int rc = mosquitto_loop(mosq_, static_cast<int>(ms.count()), 1);
    if (side_loop_ != nullptr && side_loop_->watched() + side_loop_->timers() > 0)
        side_loop_->run_once(std::chrono::milliseconds(0));
    if (!connected_ && !failure_) {
        settle_connack(rc);
        throw_if_failed();
        return;
    }
    if (rc == MOSQ_ERR_SUCCESS) return;
    connected_ = false;
    if (rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_ERRNO)
        failure_ = error(ErrorKind::ConnectionLost, "connection lost");
    else
        failure_ = error(ErrorKind::Protocol, mosquitto_strerror(rc));
    throw_if_failed();
}

void LibmosquittoClient::disconnect(SessionAfter /*after*/) noexcept {
    if (mosq_ == nullptr || !connected_) return;
    mosquitto_disconnect(mosq_);
    connected_ = false;
}

}  // namespace

std::unique_ptr<Client> make_libmosquitto_client(net::EventLoop* side_loop);  // for engines.cpp

std::unique_ptr<Client> make_libmosquitto_client(net::EventLoop* side_loop) {
    return std::make_unique<LibmosquittoClient>(side_loop);
}

}  // namespace mqtt

// The libmosquitto engine: the only file that includes <mosquitto.h>. It runs libmosquitto
// without its own thread (mosquitto_loop on the caller's thread), so callbacks arrive inside
// poll() and nothing needs a lock.

#include <mosquitto.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "mqtt/client.hpp"

namespace mqtt {
namespace {

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
    LibmosquittoClient() = default;
    ~LibmosquittoClient() override {
        if (mosq_ != nullptr) mosquitto_destroy(mosq_);
    }
    LibmosquittoClient(const LibmosquittoClient&) = delete;  // owns the mosquitto handle
    LibmosquittoClient& operator=(const LibmosquittoClient&) = delete;

    void connect(const ConnectOptions& options) override;
    void subscribe(const std::vector<std::string>& filters, QoS qos) override;
    std::optional<PublishId> publish(std::string_view topic, std::string_view payload,
                                     QoS qos) override;
    void poll(std::chrono::milliseconds timeout) override;
    std::size_t in_flight() const override { return in_flight_; }
    std::size_t window() const override { return options_.max_inflight; }
    std::string protocol_description() const override {
        return options_.version == ProtocolVersion::V5 ? "MQTT 5 (libmosquitto)"
                                                       : "MQTT 3.1.1 (libmosquitto)";
    }
    void disconnect() noexcept override;

  private:
    static LibmosquittoClient& self(void* userdata) {
        return *static_cast<LibmosquittoClient*>(userdata);
    }
    [[noreturn]] void fail(ErrorKind kind, const std::string& reason) const {
        throw broker_error(kind, options_.host, options_.port, reason);
    }
    // Runs the loop until `done` or the deadline; throws on a lost connection or timeout.
    template <typename Done>
    void loop_until(Done done, std::chrono::milliseconds limit, const char* waiting_for);

    LibraryUse library_;
    mosquitto* mosq_{nullptr};
    ConnectOptions options_;
    std::size_t in_flight_{0};
    std::string topic_;  // NUL-terminated copy for the C API
    // connect/subscribe handshakes
    std::optional<int> connack_code_;
    std::optional<int> suback_mid_;
    std::vector<int> granted_qos_;
    bool connected_{false};
};

template <typename Done>
void LibmosquittoClient::loop_until(Done done, std::chrono::milliseconds limit,
                                    const char* waiting_for) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline)
            fail(ErrorKind::Unreachable,
                 fmt::format("no {} within {} ms", waiting_for, limit.count()));
        const int rc = mosquitto_loop(mosq_, 100, 1);
        // A refused CONNACK is reported through the callback and as an error code: the
        // callback's code says why, so it wins.
        if (done()) return;
        if (rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_ERRNO)
            fail(ErrorKind::Protocol,
                 fmt::format("connection closed while waiting for {}", waiting_for));
        if (rc != MOSQ_ERR_SUCCESS) fail(ErrorKind::Protocol, mosquitto_strerror(rc));
    }
}

void LibmosquittoClient::connect(const ConnectOptions& options) {
    options_ = options;
    const char* id = options.client_id.empty() ? nullptr : options.client_id.c_str();
    mosq_ = mosquitto_new(id, options.clean_session, this);
    if (mosq_ == nullptr) fail(ErrorKind::Protocol, "cannot create a libmosquitto client");
    mosquitto_int_option(
        mosq_, MOSQ_OPT_PROTOCOL_VERSION,
        options.version == ProtocolVersion::V5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
    // Let our window, not libmosquitto's default of 20, bound what is in flight.
    mosquitto_max_inflight_messages_set(mosq_, static_cast<unsigned>(options.max_inflight));
    if (options.username) {
        const char* pw = options.password ? options.password->c_str() : nullptr;
        mosquitto_username_pw_set(mosq_, options.username->c_str(), pw);
    }

    mosquitto_connect_callback_set(
        mosq_, [](mosquitto*, void* ud, int rc) { self(ud).connack_code_ = rc; });
    mosquitto_subscribe_callback_set(
        mosq_, [](mosquitto*, void* ud, int mid, int count, const int* granted) {
            auto& c = self(ud);
            c.suback_mid_ = mid;
            c.granted_qos_.assign(granted, granted + count);
        });
    mosquitto_publish_callback_set(mosq_, [](mosquitto*, void* ud, int mid) {
        auto& c = self(ud);
        if (c.in_flight_ > 0) --c.in_flight_;
        if (c.confirm_handler_) c.confirm_handler_(static_cast<PublishId>(mid), 0);
    });
    mosquitto_message_callback_set(mosq_, [](mosquitto*, void* ud, const mosquitto_message* m) {
        auto& c = self(ud);
        if (!c.message_handler_) return;
        c.message_handler_(
            Message{m->topic,
                    {static_cast<const char*>(m->payload), static_cast<std::size_t>(m->payloadlen)},
                    static_cast<QoS>(m->qos),
                    m->retain});
    });
    mosquitto_disconnect_callback_set(
        mosq_, [](mosquitto*, void* ud, int) { self(ud).connected_ = false; });

    errno = 0;
    const int rc = mosquitto_connect(mosq_, options.host.c_str(), options.port,
                                     static_cast<int>(options.keepalive.count()));
    if (rc == MOSQ_ERR_ERRNO) {
        const int err = errno;
        fail(err == ECONNREFUSED ? ErrorKind::Refused : ErrorKind::Unreachable,
             err == ECONNREFUSED ? "connection refused (is the broker running on that port?)"
                                 : fmt::format("unreachable ({})", std::strerror(err)));
    }
    if (rc == MOSQ_ERR_EAI) fail(ErrorKind::Unreachable, "host name does not resolve");
    if (rc == MOSQ_ERR_INVAL) fail(ErrorKind::Unreachable, "invalid host or port");
    if (rc != MOSQ_ERR_SUCCESS) fail(ErrorKind::Unreachable, mosquitto_strerror(rc));

    loop_until([&] { return connack_code_.has_value(); }, options.connect_timeout, "CONNACK");
    if (*connack_code_ != 0) {
        // MQTT 3.1.1 return codes (3.2.2.3) as MQTT 5 reason codes; MQTT 5 codes pass through.
        static constexpr std::uint8_t kV311[] = {0x00, 0x84, 0x85, 0x88, 0x86, 0x87};
        const int code = *connack_code_;
        throw_connack_refusal(options, options.version == ProtocolVersion::V311 && code < 6
                                           ? kV311[code]
                                           : static_cast<std::uint8_t>(code));
    }
    connected_ = true;
}

void LibmosquittoClient::subscribe(const std::vector<std::string>& filters, QoS qos) {
    std::vector<char*> subs;
    for (const std::string& f : filters) subs.push_back(const_cast<char*>(f.c_str()));
    int mid = 0;
    const int rc = mosquitto_subscribe_multiple(mosq_, &mid, static_cast<int>(subs.size()),
                                                subs.data(), static_cast<int>(qos), 0, nullptr);
    if (rc != MOSQ_ERR_SUCCESS)
        fail(ErrorKind::Protocol, fmt::format("subscribe failed: {}", mosquitto_strerror(rc)));
    suback_mid_.reset();
    loop_until([&] { return suback_mid_ == mid; }, options_.connect_timeout, "SUBACK");
    for (std::size_t i = 0; i < granted_qos_.size(); ++i) {
        if (granted_qos_[i] >= 0x80)  // [MQTT-3.9.3-2] 0x80 is a refused subscription
            fail(ErrorKind::NotAuthorised, fmt::format("subscription to '{}' refused",
                                                       i < filters.size() ? filters[i] : "?"));
    }
}

std::optional<PublishId> LibmosquittoClient::publish(std::string_view topic,
                                                     std::string_view payload, QoS qos) {
    if (in_flight_ >= options_.max_inflight) return std::nullopt;
    topic_.assign(topic);
    int mid = 0;
    // Counted before the call: for QoS 0 libmosquitto confirms inside mosquitto_publish().
    ++in_flight_;
    const int rc = mosquitto_publish(mosq_, &mid, topic_.c_str(), static_cast<int>(payload.size()),
                                     payload.data(), static_cast<int>(qos), false);
    if (rc != MOSQ_ERR_SUCCESS) {
        --in_flight_;
        if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST)
            fail(ErrorKind::ConnectionLost, "connection lost");
        fail(ErrorKind::Protocol, fmt::format("publish failed: {}", mosquitto_strerror(rc)));
    }
    return static_cast<PublishId>(mid);
}

void LibmosquittoClient::poll(std::chrono::milliseconds timeout) {
    const int rc = mosquitto_loop(mosq_, static_cast<int>(timeout.count()), 1);
    if (rc == MOSQ_ERR_SUCCESS) return;
    connected_ = false;
    if (rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_ERRNO)
        fail(ErrorKind::ConnectionLost, "connection lost");
    fail(ErrorKind::Protocol, mosquitto_strerror(rc));
}

void LibmosquittoClient::disconnect() noexcept {
    if (mosq_ == nullptr || !connected_) return;
    mosquitto_disconnect(mosq_);
    connected_ = false;
}

}  // namespace

std::unique_ptr<Client> make_libmosquitto_client() {
    return std::make_unique<LibmosquittoClient>();
}

}  // namespace mqtt

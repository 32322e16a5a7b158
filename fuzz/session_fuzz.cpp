// libFuzzer target: the client session state machine fed a fuzzed stream of broker bytes,
// interleaved with our own publishes, keepalive ticks and lost connections. It must never
// crash, assert or grow without bound: what it queues to send stays proportional to what it
// was fed, and its window is never exceeded.
//
// Input: byte 0 chooses the version and whether a valid CONNACK opens the stream (so the
// fuzzer reaches the connected state at once); then operations, one byte each, some followed
// by a length and that many bytes to feed.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mqtt/protocol/session.hpp"

namespace {

using namespace mqtt::protocol;

class Quiet final : public Session::Handler {
    void on_connack(const Connack&) override {}
    void on_message(const Publish&) override {}
    void on_confirmed(std::uint16_t, mqtt::ReasonCode, Session::Clock::time_point) override {}
    void on_suback(const Suback&) override {}
    void on_disconnect(const Disconnect&) override {}
};

// A CONNACK accepting the connection, without properties under MQTT 5.
std::string accepting_connack(Version v) {
    return v == Version::V5 ? std::string("\x20\x03\x00\x00\x00", 5)
                            : std::string("\x20\x02\x00\x00", 4);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const Version version = (data[0] & 1) != 0 ? Version::V5 : Version::V311;
    Session::Config config;
    config.connect.version = version;
    config.connect.client_id = "fuzz";
    config.max_inflight = 16;
    Quiet handler;
    Session session(config, handler);
    auto now = Session::Clock::time_point{} + std::chrono::hours(1);
    std::string unconsumed;  // bytes of a packet not yet complete
    std::size_t fed = 0;

    auto feed = [&](std::string_view bytes) {
        unconsumed.append(bytes);
        fed += bytes.size();
        const auto result = session.feed(unconsumed, now);
        if (result.consumed > unconsumed.size()) std::abort();
        unconsumed.erase(0, result.consumed);
        if (result.failure) {  // the owner closes the socket and starts again
            session.connection_lost();
            unconsumed.clear();
            session.connection_opened(now);
        }
    };
    auto check = [&] {
        if (session.in_flight() > session.window() && session.window() != 0) std::abort();
        // Acknowledgements and resends: bounded by what came in, plus the window's resends.
        if (session.outbox().size() > 64 * fed + 16 * 1024 + session.in_flight() * 512)
            std::abort();
        session.outbox().clear();  // written to the socket
    };

    session.connection_opened(now);
    if ((data[0] & 2) != 0) feed(accepting_connack(version));
    std::size_t i = 1;
    while (i < size) {
        const std::uint8_t op = data[i++];
        switch (op % 5) {
            case 0: {  // feed the next N bytes
                const std::size_t n = i < size ? data[i++] : 0;
                const std::size_t take = std::min(n, size - i);
                feed({reinterpret_cast<const char*>(data + i), take});
                i += take;
                break;
            }
            case 1:  // publish at QoS 0, 1 or 2
                session.publish("sensors/x", "payload", static_cast<std::uint8_t>((op >> 3) % 3),
                                false, now);
                break;
            case 2:  // time passes: keepalive
                now += std::chrono::seconds(op >> 3);
                if (session.tick(now)) {
                    session.connection_lost();
                    unconsumed.clear();
                    session.connection_opened(now);
                }
                break;
            case 3:  // the connection drops; the next one opens with a CONNACK
                session.connection_lost();
                unconsumed.clear();
                session.connection_opened(now);
                feed(accepting_connack(version));
                break;
            default:
                session.subscribe({"sensors/#"}, static_cast<std::uint8_t>((op >> 3) % 3), now);
                break;
        }
        check();
    }
    return 0;
}

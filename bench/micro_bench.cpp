// Micro-benchmarks of the per-message hot paths: payload encode/decode, MQTT packet
// encode/decode, ledger update. Run: build/release/bench/micro_bench

#include <benchmark/benchmark.h>

#include "mqtt/protocol/codec.hpp"
#include "net/websocket_framing.hpp"
#include "sim/sensor_model.hpp"
#include "telemetry/payload.hpp"
#include "telemetry/sequence_ledger.hpp"

namespace {

telemetry::Reading sample() {
    return {"9f3a1c2e", "sensor-0001", 123456, 1764102213123456, 21.53, 45.2, 1013.25, 99.87};
}

void PayloadEncode(benchmark::State& state) {
    std::string out;
    const auto r = sample();
    for (auto _ : state) benchmark::DoNotOptimize(telemetry::encode_reading(r, out));
}
BENCHMARK(PayloadEncode);

void PayloadDecode(benchmark::State& state) {
    std::string payload;
    telemetry::encode_reading(sample(), payload);
    for (auto _ : state) benchmark::DoNotOptimize(telemetry::decode_reading(payload));
}
BENCHMARK(PayloadDecode);

void FleetNextReading(benchmark::State& state) {
    sim::DeviceFleet fleet("sensor-", 10, 1, "run");
    std::int64_t ts = 0;
    for (auto _ : state) benchmark::DoNotOptimize(fleet.next(++ts));
}
BENCHMARK(FleetNextReading);

void MqttPublishEncode(benchmark::State& state) {
    std::string payload, out;
    telemetry::encode_reading(sample(), payload);
    for (auto _ : state) {
        out.clear();
        mqtt::protocol::encode_publish("sensors/sensor-0001/telemetry", payload, 1, false, false,
                                       42, mqtt::protocol::Version::V5, out);
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(MqttPublishEncode);

void MqttPublishDecode(benchmark::State& state) {
    std::string payload, packet;
    telemetry::encode_reading(sample(), payload);
    mqtt::protocol::encode_publish("sensors/sensor-0001/telemetry", payload, 1, false, false, 42,
                                   mqtt::protocol::Version::V5, packet);
    for (auto _ : state)
        benchmark::DoNotOptimize(mqtt::protocol::decode(packet, mqtt::protocol::Version::V5));
}
BENCHMARK(MqttPublishDecode);

// The WebSocket layer's cost per message: a flush of N 200-byte PUBLISHes wrapped in one masked
// frame (as the engine sends), and N PUBLISH frames of one packet each unwrapped (as a broker
// that frames every packet, like aedes with ws, sends). Items: messages.
void WebSocketWrap(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const std::string outbox(n * 200, 'p');
    net::WebSocketFraming framing;
    std::string wire;
    for (auto _ : state) {
        wire.clear();
        framing.wrap(outbox, wire);
        benchmark::DoNotOptimize(wire.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(WebSocketWrap)->Arg(1)->Arg(100);

void WebSocketUnwrap(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    std::string frames;
    for (std::size_t i = 0; i < n; ++i)
        frames += std::string("\x82\x7e\x00\xc8", 4) + std::string(200, 'p');
    net::WebSocketFraming framing;
    std::string data, reply;
    for (auto _ : state) {
        data.clear();
        framing.unwrap(frames, data, reply);
        benchmark::DoNotOptimize(data.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(WebSocketUnwrap)->Arg(1)->Arg(100);

void MqttPubackDecode(benchmark::State& state) {
    std::string packet;
    mqtt::protocol::encode(mqtt::protocol::Ack{mqtt::protocol::PacketType::Puback, 42, 0, {}},
                           mqtt::protocol::Version::V5, packet);
    for (auto _ : state)
        benchmark::DoNotOptimize(mqtt::protocol::decode(packet, mqtt::protocol::Version::V5));
}
BENCHMARK(MqttPubackDecode);

void LedgerRecordInOrder(benchmark::State& state) {
    telemetry::DeliveryLedger ledger;
    std::uint64_t seq = 0;
    for (auto _ : state) benchmark::DoNotOptimize(ledger.record("9f3a1c2e", "sensor-0001", ++seq));
}
BENCHMARK(LedgerRecordInOrder);

void LedgerRecordTenDevicesRoundRobin(benchmark::State& state) {
    telemetry::DeliveryLedger ledger;
    std::vector<std::string> devices;
    for (int i = 1; i <= 10; ++i)
        devices.push_back(sim::device_id("sensor-", static_cast<std::uint64_t>(i)));
    std::uint64_t n = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(ledger.record("9f3a1c2e", devices[n % 10], n / 10 + 1));
        ++n;
    }
}
BENCHMARK(LedgerRecordTenDevicesRoundRobin);

}  // namespace

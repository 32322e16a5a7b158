#pragma once
// mqtt_publisher: the IoT sensor simulator.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "app/cli_common.hpp"
#include "app/fleet_profile.hpp"
#include "mqtt/engines.hpp"
#include "mqtt/protocol/session.hpp"
#include "telemetry/payload_format.hpp"

namespace app {

// The name every message of the publisher starts with.
inline constexpr const char* kPublisherProgram = "mqtt_publisher";

struct PublisherOptions {
    mqtt::ConnectOptions connect;
    mqtt::Engine engine{mqtt::Engine::Native};
    OutputOptions output;
    std::uint64_t count{1'000'000};
    int qos{1};
    // --window auto (QoS 1/2): mqtt/adaptive_window.hpp chooses the window, up to window_max;
    // --window N: N, fixed (connect.max_inflight).
    bool window_auto{true};
    static constexpr std::size_t kControlRoom = 8;
    // The session's packet-id budget (mqtt::protocol::kMaxWindow) less room for control
    // messages, so that the session never lowers it quietly.
    static constexpr std::size_t kWindowMaxLimit = mqtt::protocol::kMaxWindow - kControlRoom;
    std::size_t window_max{kWindowMaxLimit};
    // libmosquitto's cost per message grows with what it holds in flight (it walks its list of
    // in-flight messages on each acknowledgement): 500,000 messages through the project's
    // broker took 13 µs of publisher CPU each at -w 100, 21 at 1,000, 32 at 5,000, and 46 with
    // --window auto, which grew to 34,543 while the rate fell; at 1,000,000 it stalled for over
    // 10 s. So --window auto stays at or below this over libmosquitto (--window N still sets N).
    static constexpr std::size_t kLibmosquittoWindowMax = 1000;
    // Of an engine window (the broker's Receive Maximum), the slots kept for a control message
    // while one waits: a sixteenth, 1 to kControlRoom. They are one a second and one at the
    // end, so one slot serves; a fixed 8 took 8 of a stock Mosquitto's 20 from the telemetry.
    static std::size_t control_room(std::size_t engine_window) {
        return std::clamp<std::size_t>(engine_window / 16, 1, kControlRoom);
    }
    // QoS 2 over MQTT 3.1.1, whose broker cannot state its window: --window auto stays within
    // Mosquitto's default max_inflight_messages. Mosquitto 2.0.11 (Debian 12) confirms QoS 2
    // messages beyond that limit with PUBCOMP and never delivers them (7,383 of 20,000 at a
    // window of 40, 3 at 21, none at 20).
    static constexpr std::size_t kQos2WindowUnstated = 20;
    double rate{0.0};         // messages per second, 0 = as fast as possible
    double interval_ms{0.0};  // --interval: each device every MS (sets rate from --devices)
    double duration_s{0.0};   // --duration: count = rate x duration
    bool count_given{false};
    std::uint64_t devices{10};  // this process's; of them all: devices_total
    // --shard I/N: this process publishes the devices d (0-based) with d % N == I - 1 of a run
    // that N processes share (the same --run-id), and the messages of those devices.
    std::uint32_t shard{1};
    std::uint32_t shards{1};
    std::uint64_t devices_total{10};  // set with shards (by the parser)
    std::string device_prefix{"sensor-"};
    std::string topic{"sensors/{device}/telemetry"};
    std::string control_topic{"telemetry/run-summary"};
    std::uint64_t seed{1};
    double fault_rate{0.001};  // --fault-rate: chance per reading of a sensor fault
    // --payload-format and --payload-size (telemetry/payload_format.hpp).
    telemetry::PayloadSpec payload;
    // As given; app/payload_options.cpp parses and loads them into `payload`.
    std::string payload_size_text, payload_template, payload_file;
    std::string run_id;  // empty: random
    double drain_timeout_s{30.0};
    // --wait-for-start S: wait up to S seconds for the run's retained start (a consumer's
    // --announce-start) and begin at its time; 0: begin at once.
    double wait_for_start_s{0.0};
    // --max-schedule-lag-ms: with a schedule (--rate, --interval, a fleet), a message sent later
    // than this after it was due fails the run; 0 = never.
    double max_schedule_lag_ms{1000.0};
    // --require-subscribers: fail the run when the broker said a message had no subscriber
    // (MQTT 5 reason 0x10, a success code: by default it is counted and warned about).
    bool require_subscribers{false};
    // --retain: every reading retained, so the broker keeps each device's last value for
    // subscribers that come later (mqtt_subscriber --check-retained checks them).
    bool retain{false};
    // --commands: every device subscribes to its command topic (a template: {device}, {n},
    // {group}) and answers what arrives (app/command_responder.hpp), while the run lasts.
    bool commands{false};
    std::string command_topic{"devices/{device}/cmd"};
    double command_service_ms{0.0};    // from a command's receipt to its answer
    double command_failure_rate{0.0};  // the share of commands that fail (from --seed)
    bool command_dedupe{true};         // a redelivered command is recognised, not run again
    double command_linger_s{0.0};      // answering commands after the telemetry ends
    std::string csv_file;              // --csv: the per-second timeline
    // End-to-end repair (telemetry/repair.hpp): keep the last N payloads and answer requests
    // on <repair_topic>/<run>, for up to repair_linger_s after the run summary.
    std::size_t replay_buffer{0};
    std::string repair_topic{"telemetry/repair"};
    double repair_linger_s{10.0};
    std::string state_dir;  // --state-dir: resume after our own crash (app/publisher_state.hpp)
    // --connections: 1 (default: every device over one connection, the fastest), N (devices
    // spread over N connections) or per-device (each device its own connection, client id,
    // last will and reconnects, like hardware; mqtt/multi_client.hpp).
    std::uint64_t connections{1};
    bool per_device{false};
    // --connections auto: `connections` is chosen at the start from the broker's Receive
    // Maximum (auto_connections in app/fleet_plan.hpp).
    bool connections_auto{false};
    double connect_rate{1000.0};              // new connections per second (0: all at once)
    std::vector<std::string> bind_addresses;  // local addresses, spread over the connections
    // With a --host list: which node each connection starts on. RoundRobin: connection i on
    // node i mod nodes; Hash: by a hash of its client id, so a device always lands on the same
    // node whatever the fleet's size or order.
    enum class Spread { RoundRobin, Hash };
    Spread spread{Spread::RoundRobin};
    std::string status_topic{"sensors/{device}/status"};  // per-device: retained online/offline
    static constexpr std::size_t kFleetWindow = 8;        // per connection, unless --window N
    // A device that takes commands sends two answers per command beside its readings.
    static constexpr std::size_t kFleetCommandWindow = 32;
    // Fleets: each device's interval varies by up to this share of it (sim/fleet_schedule.hpp).
    double jitter{0.1};
    // --churn: this share of the devices (per-device connections) each vanish once without
    // DISCONNECT, somewhere in the run, and come back after churn_downtime_s.
    double churn{0.0};
    double churn_downtime_s{5.0};
    // Per-device connections: each device's client id ({device}, {n}, {group}).
    std::string client_id_template{"{device}"};
    // --profile: the fleet as groups of devices (app/fleet_profile.hpp). Without one, a single
    // group made of the flags above.
    std::string profile_file;
    std::vector<DeviceGroup> groups;
    bool from_profile() const { return !profile_file.empty(); }
    bool fleet() const { return per_device || connections > 1; }
};

// Readings each device of `group` sends in `duration_s`: at least one.
std::uint64_t readings_per_device(const DeviceGroup& group, double duration_s);

// --shard I/N, or auto/N with I from a Kubernetes Indexed Job's completion index (0-based,
// null when the variable is not set); an error says what is wrong.
inline constexpr const char* kShardIndexVariable = "JOB_COMPLETION_INDEX";
inline constexpr const char* kRunIdVariable = "MQTT_TELEMETRY_RUN_ID";  // --run-id's default
struct Shard {
    std::uint32_t index{}, count{};
    std::string error;
};
Shard parse_shard(const std::string& text, const char* completion_index);

Parsed<PublisherOptions> parse_publisher_args(const std::vector<std::string>& args);
int run_publisher(const PublisherOptions& options);

}  // namespace app

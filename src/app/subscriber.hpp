#pragma once
// mqtt_subscriber: the data consumer that verifies every message arrived exactly once.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/cli_common.hpp"
#include "mqtt/engines.hpp"
#include "telemetry/report.hpp"

namespace app {

// The name every message of the subscriber starts with.
inline constexpr const char* kSubscriberProgram = "mqtt_subscriber";

struct SubscriberOptions {
    mqtt::ConnectOptions connect;
    mqtt::Engine engine{mqtt::Engine::Native};
    OutputOptions output;
    std::vector<std::string> topics{"sensors/+/telemetry"};
    int qos{1};         // of the telemetry subscription; control topics are always QoS 1
    bool print{false};  // --print: intact readings as JSON lines on stdout (app/print_sink.hpp)
    std::string control_topic{"telemetry/run-summary"};
    // --announce-start N: once subscribed, publish the retained start of run start_run for N
    // publisher shards (telemetry/run_start.hpp), start_delay_s ahead, unless one is there.
    std::uint32_t announce_shards{0};
    std::string start_run;  // --start-run, or $MQTT_TELEMETRY_RUN_ID
    double start_delay_s{2.0};
    // Devices' retained online/offline (a fleet's births and wills); empty: not followed.
    std::string status_topic{"sensors/+/status"};
    // End-to-end repair (telemetry/repair.hpp): missing ranges are asked for on <topic>/<run>.
    std::string repair_topic{"telemetry/repair"};
    bool repair{true};
    // --share-group: a member of this consumer group ($share/G/...): it sees a share of the
    // messages, so its verdict leaves out what is missing (mqtt_report merges the members').
    std::string share_group;
    // --connections: this many subscribers on one event loop, each its own client id, session
    // and ledger (app/subscriber_fleet.hpp); verified when every one of them is complete.
    std::uint32_t connections{1};
    // --subscriptions-per-connection K: each --topic with {s} is subscribed K times per
    // connection (member_topics()), for subscription-heavy loads.
    std::uint32_t subscriptions_per_connection{1};
    // Connection workloads (app/connection_hold.hpp): --connect-only opens the connections at
    // connect_rate per second (0: all at once), subscribes and holds them hold_s seconds;
    // --reconnect-storm drops every connection at once without DISCONNECT this many seconds
    // into the hold (or after a fleet is ready) and lets them come back.
    // --check-retained: after the run, subscribe again and check each device's retained last
    // value (telemetry/retained_check.hpp).
    bool check_retained{false};
    bool connect_only{false};
    double hold_s{10.0};
    double connect_rate{0.0};
    std::optional<double> reconnect_storm_s;
    // --flap-every: each connection subscribes to flap_topic ({n}: its number) and unsubscribes
    // again, in turn, every flap_every_s seconds (app/subscription_flapper.hpp); 0: never.
    double flap_every_s{0.0};
    std::string flap_topic{"flap/{n}"};
    std::optional<std::uint64_t> count;  // finish after this many unique messages
    double idle_timeout_s{30.0};
    std::size_t max_gaps{20};  // gap ranges listed in the report
    telemetry::Thresholds thresholds;
    std::string csv_file;         // --csv: the per-second timeline
    std::string html_file;        // --html: a self-contained HTML report
    std::string state_dir;        // --state-dir: survive our own crash (app/subscriber_state.hpp)
    std::string store;            // --store sqlite:FILE (store/sqlite_store.hpp)
    bool client_id_given{false};  // --id; else the state directory's or a generated one

    // Run as app/subscriber_fleet.hpp (one loop of native clients, a member each): several
    // connections, or a connection workload over even one.
    bool runs_as_fleet() const {
        return connections > 1 || reconnect_storm_s.has_value() || flap_every_s > 0;
    }
};

// The telemetry topic filters as subscribed: through $share/G/ in a share group.
std::vector<std::string> telemetry_filters(const SubscriberOptions& options);
// A --topic for subscriber `member` of a fleet: each {n} replaced by its number.
std::string expand_member_template(std::string_view filter, std::uint32_t member);
// The --topic filters of subscriber (or connection) `member`, 1-based: {n} its number, and each
// filter with {s} made subscriptions_per_connection times, {s} the subscription's number across
// the fleet ((member-1)*K+1 to member*K), written as device numbers are: 0001.
std::vector<std::string> member_topics(const SubscriberOptions& options, std::uint32_t member);
// The connection of subscriber (or connection) `member`, 1-based: client id ID-member, and the
// --host nodes shared out, member k starting on node k (round) with the others as failover.
mqtt::ConnectOptions member_connect(const SubscriberOptions& options, std::uint32_t member);

Parsed<SubscriberOptions> parse_subscriber_args(const std::vector<std::string>& args);
int run_subscriber(const SubscriberOptions& options);

}  // namespace app

#pragma once
// mqtt_commander: sends commands to the devices of a fleet (mqtt_publisher --commands) at a
// rate, open loop, and keeps the ledger of what came back (telemetry/command_ledger.hpp):
// delivered, answered, late, lost, executed twice, out of order, and the round trip with its
// legs. Its verdict and exit status follow the same rules as the other programs'.

#include <cstdint>
#include <string>
#include <vector>

#include "app/cli_common.hpp"
#include "app/fleet_profile.hpp"
#include "mqtt/engines.hpp"

namespace app {

inline constexpr const char* kCommanderProgram = "mqtt_commander";

struct CommanderOptions {
    mqtt::ConnectOptions connect;
    mqtt::Engine engine{mqtt::Engine::Native};
    OutputOptions output;
    std::uint64_t devices{10};  // commands go to devices 1..N in turn, as the publisher names them
    std::string device_prefix{"sensor-"};
    std::uint64_t count{100};  // commands in all
    double rate{10.0};         // commands per second (0: all at once)
    double every_s{0.0};       // --every: one command per device this often (sets the rate)
    double duration_s{0.0};    // --duration: commands for this long (sets the count)
    std::string command_topic{"devices/{device}/cmd"};
    std::string reply_topic{"commands/{run}/replies"};  // {run}: the run id
    std::string name{"apply"};
    std::string run_id;  // empty: random
    double command_timeout_s{5.0};
    // Thresholds: each broken one fails the run with its own line.
    std::uint64_t max_lost{0};
    std::uint64_t max_executed_twice{0};
    double max_p99_ms{0.0};           // 0: none
    std::string csv_file, html_file;  // the per-second timeline; the HTML page
    // Which devices: -d N of --device-prefix, or a fleet profile's (--profile), one group of it
    // (--group); then a seeded share of them (--sample, --seed).
    std::string profile, group;
    double sample{1.0};
    std::uint64_t seed{1};
};

// A device commands go to: its id, its number in its group and the group (for {device}, {n}
// and {group} in --command-topic).
struct CommandTarget {
    std::string id;
    std::uint64_t n{};
    std::string group;
};

// The devices to command, in the order commands go to them in turn: -d N of --device-prefix,
// made when asked for (a fleet of millions costs nothing up front), or those listed (a
// profile's, a sample).
class CommandTargets {
  public:
    CommandTargets(std::string prefix, std::uint64_t devices)
        : prefix_(std::move(prefix)), devices_(devices) {}
    explicit CommandTargets(std::vector<CommandTarget> listed)
        : devices_(listed.size()), listed_(std::move(listed)) {}
    std::uint64_t size() const { return devices_; }
    CommandTarget at(std::uint64_t i) const;

  private:
    std::string prefix_;
    std::uint64_t devices_;
    std::vector<CommandTarget> listed_;  // empty: sensor ids of prefix_ 1..devices_
};

// The targets the options choose. Throws std::runtime_error naming what is wrong (no such
// group, a sample of no device).
CommandTargets command_targets(const CommanderOptions& options,
                               const std::vector<DeviceGroup>& profile_groups);

Parsed<CommanderOptions> parse_commander_args(const std::vector<std::string>& args);
int run_commander(const CommanderOptions& options);

}  // namespace app

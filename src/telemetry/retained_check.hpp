#pragma once
// The last value a broker keeps for each device (readings published retained, mqtt_publisher
// --retain), checked as a subscriber that comes (back) later sees it: subscribing again after
// the run, one retained message per topic arrives [MQTT-3.3.1-6, MQTT-3.8.4-3], and each
// expected device's must be intact and its last reading, the one its run summary names.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "telemetry/payload.hpp"

namespace telemetry {

struct RetainedTotals {
    std::uint64_t devices{};            // expected: each device of a summarised run in scope
    std::uint64_t current{};            // its retained reading is its last
    std::uint64_t stale{};              // an earlier reading of it is retained
    std::uint64_t missing{};            // no retained reading of it arrived
    std::uint64_t unreadable{};         // retained messages malformed or corrupt
    std::vector<std::string> examples;  // the first few stale, missing or unreadable, in words
};

// One line per kind of problem; empty when every device's last value is current.
std::vector<std::string> retained_failed_checks(const RetainedTotals& totals);
// Two checks' totals as one (mqtt_report): counts added, the first examples kept.
void add_retained(RetainedTotals& into, const RetainedTotals& other);

class RetainedCheck {
  public:
    // The devices to check and their last readings ((run, device) -> seq:
    // DeliveryLedger::last_readings()).
    explicit RetainedCheck(
        const std::map<std::pair<std::string, std::string>, std::uint64_t>& last);

    // A retained message as it arrived, decoded; `topic` names it when it cannot be read.
    void record(std::string_view topic, const DecodedReading& decoded);
    // Every expected device has had its retained reading (current or not).
    bool all_arrived() const { return arrived_ == last_.size(); }
    RetainedTotals totals() const;
    // One line per kind of problem; empty when every device's last value is current.
    std::vector<std::string> failed_checks() const;

  private:
    void example(std::string what);

    struct Expected {
        std::uint64_t last{};
        std::uint64_t retained{};  // 0: none arrived yet
    };
    std::map<std::pair<std::string, std::string>, Expected> last_;
    std::size_t arrived_{0};
    std::uint64_t unreadable_{0};
    std::vector<std::string> examples_;
};

}  // namespace telemetry

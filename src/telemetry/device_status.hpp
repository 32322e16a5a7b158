#pragma once
// Devices' online/offline state from their status topic (a retained "online" when a device
// connects, "offline" from its last will or its orderly goodbye): which device a topic names,
// and the state of each.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace telemetry {

class DeviceStatusBoard {
  public:
    // `filter`: a topic filter with one '+' level, the device id (e.g. sensors/+/status).
    // Throws std::invalid_argument otherwise.
    explicit DeviceStatusBoard(std::string filter);

    // The device `topic` names, if it matches the filter.
    std::optional<std::string_view> device_in(std::string_view topic) const;
    // A status message: "online" or "offline" (anything else is ignored and returns false).
    bool apply(std::string_view device, std::string_view payload);

    std::uint64_t online() const { return online_; }
    std::uint64_t offline() const { return statuses_.size() - online_; }
    std::uint64_t changes() const { return changes_; }
    // Devices now offline, first `limit` by id.
    std::vector<std::string> offline_devices(std::size_t limit) const;
    const std::string& filter() const { return filter_; }

  private:
    std::string filter_;
    std::vector<std::string> levels_;
    std::size_t device_level_{0};
    std::map<std::string, bool, std::less<>> statuses_;  // device -> online
    std::uint64_t online_{0};
    std::uint64_t changes_{0};
};

}  // namespace telemetry

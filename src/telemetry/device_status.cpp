#include "telemetry/device_status.hpp"

#include <stdexcept>

namespace telemetry {
namespace {

std::vector<std::string_view> split_levels(std::string_view topic) {
    std::vector<std::string_view> levels;
    for (std::size_t start = 0;;) {
        const std::size_t slash = topic.find('/', start);
        levels.push_back(topic.substr(start, slash - start));
        if (slash == std::string_view::npos) return levels;
        start = slash + 1;
    }
}

}  // namespace

DeviceStatusBoard::DeviceStatusBoard(std::string filter) : filter_(std::move(filter)) {
    std::size_t wildcards = 0;
    for (const std::string_view level : split_levels(filter_)) {
        if (level == "+") {
            device_level_ = levels_.size();
            ++wildcards;
        } else if (level.find_first_of("+#") != std::string_view::npos) {
            wildcards = 2;  // '#' or a wildcard inside a level: not one device level
        }
        levels_.emplace_back(level);
    }
    if (wildcards != 1)
        throw std::invalid_argument(
            "a status topic filter needs exactly one '+' level (the device)"
            ", e.g. sensors/+/status: " +
            filter_);
}

std::optional<std::string_view> DeviceStatusBoard::device_in(std::string_view topic) const {
    // Level by level without allocating: every telemetry message passes through here.
    std::optional<std::string_view> device;
    std::size_t start = 0;
    for (std::size_t i = 0; i < levels_.size(); ++i) {
        if (start > topic.size()) return std::nullopt;  // fewer levels than the filter
        const std::size_t slash = topic.find('/', start);
        const std::string_view level = topic.substr(start, slash - start);
        if (i == device_level_) {
            if (level.empty()) return std::nullopt;
            device = level;
        } else if (level != levels_[i]) {
            return std::nullopt;
        }
        start = slash == std::string_view::npos ? topic.size() + 1 : slash + 1;
    }
    if (start <= topic.size()) return std::nullopt;  // more levels than the filter
    return device;
}

bool DeviceStatusBoard::apply(std::string_view device, std::string_view payload) {
    if (payload != "online" && payload != "offline") return false;
    const bool online = payload == "online";
    auto it = statuses_.find(device);
    if (it == statuses_.end()) {
        statuses_.emplace(std::string(device), online);
        online_ += online ? 1 : 0;
        ++changes_;
        return true;
    }
    if (it->second != online) {
        it->second = online;
        online ? ++online_ : --online_;
        ++changes_;
    }
    return true;
}

std::vector<std::string> DeviceStatusBoard::offline_devices(std::size_t limit) const {
    std::vector<std::string> devices;
    for (const auto& [device, online] : statuses_) {
        if (devices.size() == limit) break;
        if (!online) devices.push_back(device);
    }
    return devices;
}

}  // namespace telemetry

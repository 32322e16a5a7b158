#include "app/in_flight_tracker.hpp"

#include <algorithm>
#include <bit>

namespace app {

void InFlightTracker::reading(mqtt::PublishId id, std::uint32_t device, std::uint64_t number) {
    put(id, {number, device, Kind::Reading});
    if (resumable_) unconfirmed_.insert(number);
}

void InFlightTracker::put(mqtt::PublishId id, Entry entry) {
    if (id >= kFlatIds) {
        other_[id] = entry;
        return;
    }
    if (id >= flat_.size()) flat_.resize(std::min<std::size_t>(kFlatIds, std::bit_ceil(id + 1)));
    flat_[id] = entry;
}

InFlightTracker::Entry* InFlightTracker::find(mqtt::PublishId id) {
    return lookup(*this, id);
}

const InFlightTracker::Entry* InFlightTracker::find(mqtt::PublishId id) const {
    return lookup(*this, id);
}

std::optional<InFlightTracker::Entry> InFlightTracker::confirm(mqtt::PublishId id) {
    Entry* entry = find(id);
    if (entry == nullptr) return std::nullopt;
    const Entry found = *entry;
    if (id < kFlatIds)
        entry->kind = Kind::None;
    else
        other_.erase(id);
    if (found.kind == Kind::Reading && resumable_) unconfirmed_.erase(found.number);
    return found;
}

bool InFlightTracker::in_flight(mqtt::PublishId id) const {
    return find(id) != nullptr;
}

std::uint64_t InFlightTracker::confirmed_through(std::uint64_t published) const {
    return unconfirmed_.empty() ? published : *unconfirmed_.begin();
}

}  // namespace app

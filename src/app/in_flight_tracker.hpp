#pragma once
// What each message in flight is, by the id publish() gave it: a reading (its device and
// message number), a control message (run progress), the run summary, or a repair. The ids
// are opaque: any value the engine or a fleet connection hands out works the same.

#include <cstdint>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "mqtt/client.hpp"

namespace app {

class InFlightTracker {
  public:
    enum class Kind : std::uint8_t { None, Reading, Control, Summary, Repair };
    struct Entry {
        std::uint64_t number{0};  // a reading's message number
        std::uint32_t device{0};  // a reading's device
        Kind kind{Kind::None};
    };

    // `resumable`: keep readings' message numbers in order for confirmed_through() (a run with a
    // state directory); otherwise a reading costs no allocation.
    explicit InFlightTracker(bool resumable = false) : resumable_(resumable) {}

    void reading(mqtt::PublishId id, std::uint32_t device, std::uint64_t number);
    void control(mqtt::PublishId id) { put(id, {0, 0, Kind::Control}); }
    void summary(mqtt::PublishId id) { put(id, {0, 0, Kind::Summary}); }
    void repair(mqtt::PublishId id) { put(id, {0, 0, Kind::Repair}); }

    // What the confirmed id was, forgotten from here on; nothing for an id not in flight (a
    // stray or repeated acknowledgement).
    std::optional<Entry> confirm(mqtt::PublishId id);
    bool in_flight(mqtt::PublishId id) const;
    // Messages [0, n) are all confirmed, given that [0, published) were sent: where a resumed
    // run starts. Only for a resumable tracker.
    std::uint64_t confirmed_through(std::uint64_t published) const;

  private:
    void put(mqtt::PublishId id, Entry entry);
    Entry* find(mqtt::PublishId id);
    const Entry* find(mqtt::PublishId id) const;
    // Both find()s: Self is InFlightTracker or const InFlightTracker.
    template <class Self>
    static auto* lookup(Self& self, mqtt::PublishId id) {
        decltype(&self.flat_[0]) none = nullptr;
        if (id < self.flat_.size())
            return self.flat_[id].kind == Kind::None ? none : &self.flat_[id];
        if (id < kFlatIds) return none;
        const auto it = self.other_.find(id);
        return it == self.other_.end() ? nullptr : &it->second;
    }

    // One connection's ids are below 2^17 (packet ids, then QoS 0 ids): a flat table serves
    // them without an allocation per message, grown to the largest id seen. Larger ids (a
    // fleet's) go to the map.
    static constexpr std::size_t kFlatIds = 0x2'0000;
    std::vector<Entry> flat_;
    std::unordered_map<mqtt::PublishId, Entry> other_;
    bool resumable_;
    std::set<std::uint64_t> unconfirmed_;  // readings' message numbers, when resumable
};

}  // namespace app

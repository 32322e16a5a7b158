#pragma once
// The publisher's replay buffer (--replay-buffer N): the payloads of the last N messages, and
// their user properties when the envelope travels in them (--envelope properties), by message
// number, so that a consumer's repair request can be answered byte for byte. Memory is bounded
// by N whatever the length of the run.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/property_envelope.hpp"

namespace telemetry {

class ReplayBuffer {
  public:
    explicit ReplayBuffer(std::size_t capacity) : slots_(capacity) {}

    bool enabled() const { return !slots_.empty(); }
    void keep(std::uint64_t number, std::string_view payload,
              const PropertyEnvelope* properties = nullptr) {
        Slot& s = slots_[number % slots_.size()];
        s.number = number;
        s.payload.assign(payload);
        if (properties == nullptr) {
            s.properties.reset();
        } else if (s.properties) {
            *s.properties = *properties;  // the slot's strings keep their capacity
        } else {
            s.properties = std::make_unique<PropertyEnvelope>(*properties);
        }
        s.used = true;
    }
    struct Held {
        std::string_view payload;
        const PropertyEnvelope* properties;  // nullptr: the envelope is in the payload
    };
    // Message `number`, if it is still held.
    std::optional<Held> find(std::uint64_t number) const {
        if (slots_.empty()) return std::nullopt;
        const Slot& s = slots_[number % slots_.size()];
        if (!s.used || s.number != number) return std::nullopt;
        return Held{s.payload, s.properties.get()};
    }

  private:
    struct Slot {
        std::uint64_t number{0};
        std::string payload;
        // Allocated only under --envelope properties: 8 bytes per slot otherwise.
        std::unique_ptr<PropertyEnvelope> properties;
        bool used{false};
    };
    std::vector<Slot> slots_;
};

}  // namespace telemetry

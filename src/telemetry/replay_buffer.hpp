#pragma once
// The publisher's replay buffer (--replay-buffer N): the payloads of the last N messages, by
// message number, so that a consumer's repair request can be answered byte for byte. Memory is
// bounded by N whatever the length of the run.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace telemetry {

class ReplayBuffer {
  public:
    explicit ReplayBuffer(std::size_t capacity) : slots_(capacity) {}

    bool enabled() const { return !slots_.empty(); }
    void keep(std::uint64_t number, std::string_view payload) {
        Slot& s = slots_[number % slots_.size()];
        s.number = number;
        s.payload.assign(payload);
        s.used = true;
    }
    // The payload of message `number`, if it is still held.
    std::optional<std::string_view> find(std::uint64_t number) const {
        if (slots_.empty()) return std::nullopt;
        const Slot& s = slots_[number % slots_.size()];
        if (!s.used || s.number != number) return std::nullopt;
        return std::string_view(s.payload);
    }

  private:
    struct Slot {
        std::uint64_t number{0};
        std::string payload;
        bool used{false};
    };
    std::vector<Slot> slots_;
};

}  // namespace telemetry

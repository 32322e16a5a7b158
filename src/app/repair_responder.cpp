#include "app/repair_responder.hpp"

#include <utility>

#include "telemetry/repair.hpp"

namespace app {

RepairResponder::RepairResponder(std::size_t buffer, std::string run_id,
                                 sim::MessageNumbering numbering)
    : replay_(buffer), buffer_(buffer), run_id_(std::move(run_id)), numbering_(numbering) {}

std::optional<RepairResponder::Answer> RepairResponder::on_request(std::string_view payload,
                                                                   Clock::time_point now) {
    std::string error;
    const auto request = telemetry::decode_repair(payload, error);
    if (!request || request->run != run_id_) return std::nullopt;
    last_request_ = now;
    if (request->done) {
        done_ = true;
        return std::nullopt;
    }
    // Never more work than the buffer holds, whatever the request says.
    Answer answer;
    for (const telemetry::RepairRange& r : request->ranges) {
        const auto device = device_index_.find(r.device);
        if (device == device_index_.end()) continue;
        for (std::uint64_t seq = r.first; seq <= r.last && answer.wanted < buffer_;
             ++seq, ++answer.wanted) {
            const std::uint64_t number = numbering_.number_of(device->second, seq);
            if (!replay_.find(number)) continue;
            queue_.push_back(number);
            ++answer.held;
        }
    }
    return answer;
}

std::optional<RepairResponder::Resend> RepairResponder::next() {
    while (!queue_.empty()) {
        if (const auto held = replay_.find(queue_.front()))
            return Resend{queue_.front(), held->payload, held->properties};
        queue_.pop_front();
    }
    return std::nullopt;
}

bool RepairResponder::lingering(Clock::time_point now, Clock::duration linger) const {
    return !done_ && (now - last_request_ < linger || !queue_.empty());
}

}  // namespace app

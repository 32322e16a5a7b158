#include "sim/rate_pacer.hpp"

#include <limits>

namespace sim {

std::uint64_t RatePacer::due_by(Clock::time_point now) const {
    if (!paced()) return std::numeric_limits<std::uint64_t>::max();
    if (now < start_) return 0;
    const double elapsed_s = std::chrono::duration<double>(now - start_).count();
    return static_cast<std::uint64_t>(elapsed_s * rate_) + 1;  // message 0 is due at start
}

RatePacer::Clock::time_point RatePacer::due_time(std::uint64_t n) const {
    if (!paced()) return start_;
    const auto offset = std::chrono::duration<double>(static_cast<double>(n) / rate_);
    return start_ + std::chrono::duration_cast<Clock::duration>(offset);
}

}  // namespace sim

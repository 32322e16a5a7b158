#include "sim/churn_plan.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "sim/sensor_model.hpp"

namespace sim {

ChurnPlan::ChurnPlan(std::uint32_t devices, double share, Clock::time_point from,
                     Clock::time_point to, std::uint64_t seed)
    : ChurnPlan(std::vector<Group>{{0, devices, share}}, from, to, seed) {}

ChurnPlan::ChurnPlan(const std::vector<Group>& groups, Clock::time_point from, Clock::time_point to,
                     std::uint64_t seed) {
    SplitMix64 rng(seed ^ 0xC4012EULL);
    const double span =
        std::chrono::duration<double>(std::max(to - from, Clock::duration{})).count();
    std::uniform_real_distribution<double> when(0.0, span);
    for (const Group& g : groups) {
        const auto n = static_cast<std::uint32_t>(
            std::llround(std::clamp(g.share, 0.0, 1.0) * static_cast<double>(g.count)));
        // The first n of a partial Fisher-Yates shuffle: n distinct devices, each as likely.
        std::vector<std::uint32_t> order(g.count);
        std::iota(order.begin(), order.end(), g.first);
        for (std::uint32_t i = 0; i < n; ++i) {
            std::uniform_int_distribution<std::uint32_t> pick(i, g.count - 1);
            std::swap(order[i], order[pick(rng)]);
            drops_.push_back({from + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(when(rng))),
                              order[i]});
        }
    }
    std::sort(drops_.begin(), drops_.end(),
              [](const Drop& a, const Drop& b) { return a.at < b.at; });
}

std::vector<std::uint32_t> ChurnPlan::due(Clock::time_point now) {
    std::vector<std::uint32_t> devices;
    for (; next_ < drops_.size() && drops_[next_].at <= now; ++next_)
        devices.push_back(drops_[next_].device);
    return devices;
}

}  // namespace sim

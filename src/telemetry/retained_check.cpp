#include "telemetry/retained_check.hpp"

#include <fmt/format.h>

namespace telemetry {
namespace {

constexpr std::size_t kExamples = 5;

}  // namespace

RetainedCheck::RetainedCheck(
    const std::map<std::pair<std::string, std::string>, std::uint64_t>& last) {
    for (const auto& [key, seq] : last) last_[key] = {seq, 0};
}

void RetainedCheck::example(std::string what) {
    if (examples_.size() < kExamples) examples_.push_back(std::move(what));
}

void RetainedCheck::record(std::string_view topic, const DecodedReading& decoded) {
    if (!decoded.reading) {
        ++unreadable_;
        example(fmt::format("{}: {}", topic, decoded.error));
        return;
    }
    const Reading& r = *decoded.reading;
    const auto it = last_.find({r.run, r.device});
    if (it == last_.end()) return;  // another run's, or a device outside our filters
    Expected& e = it->second;
    if (e.retained == 0) ++arrived_;
    e.retained = std::max(e.retained, r.seq);
}

RetainedTotals RetainedCheck::totals() const {
    RetainedTotals t;
    t.devices = last_.size();
    t.unreadable = unreadable_;
    for (const auto& [key, e] : last_) {
        const auto& [run, device] = key;
        if (e.retained == e.last) {
            ++t.current;
            continue;
        }
        if (e.retained == 0)
            ++t.missing;
        else
            ++t.stale;
        if (t.examples.size() < kExamples)
            t.examples.push_back(
                e.retained == 0 ? fmt::format("{} of run {}: nothing retained (last reading {})",
                                              device, run, e.last)
                                : fmt::format("{} of run {}: reading {} retained, the last is {}",
                                              device, run, e.retained, e.last));
    }
    for (const std::string& u : examples_)  // the unreadable ones after
        if (t.examples.size() < kExamples) t.examples.push_back(u);
    return t;
}

std::vector<std::string> RetainedCheck::failed_checks() const {
    return retained_failed_checks(totals());
}

std::vector<std::string> retained_failed_checks(const RetainedTotals& t) {
    const std::string first = t.examples.empty() ? "" : "; the first: " + t.examples.front();
    std::vector<std::string> failed;
    if (t.stale > 0 || t.missing > 0)
        failed.push_back(
            fmt::format("retained last values: {} of {} devices stale and {} missing{}", t.stale,
                        t.devices, t.missing, first));
    if (t.unreadable > 0)
        failed.push_back(fmt::format(
            "retained last values: {} retained messages unreadable{}", t.unreadable,
            t.stale + t.missing > 0 || t.examples.empty() ? "" : ": " + t.examples.front()));
    if (t.devices == 0)
        failed.push_back("retained last values: no device of a summarised run to check");
    return failed;
}

void add_retained(RetainedTotals& into, const RetainedTotals& other) {
    into.devices += other.devices;
    into.current += other.current;
    into.stale += other.stale;
    into.missing += other.missing;
    into.unreadable += other.unreadable;
    for (const std::string& e : other.examples)
        if (into.examples.size() < kExamples) into.examples.push_back(e);
}

}  // namespace telemetry

#include "telemetry/command_ledger.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace telemetry {

void CommandLedger::sent(const Command& c, Clock::time_point scheduled) {
    commands_[c.id] = Sent{c.device, c.seq, c.sent_us, scheduled};
    ++counts_.sent;
    ++open_;
}

void CommandLedger::answered(const CommandAnswer& a, Clock::time_point now, std::int64_t now_us) {
    const auto it = commands_.find(a.id);
    if (it == commands_.end() || it->second.device != a.device) {
        ++counts_.unknown;
        return;
    }
    Sent& c = it->second;
    if (a.executions > 1 && !c.executed_twice) {
        c.executed_twice = true;
        ++counts_.executed_twice;
    }
    if (a.result == CommandResult::Accepted) {
        if (!c.delivered) {
            c.delivered = true;
            ++counts_.delivered;
            to_device_.record(a.received_us - c.sent_us);
        }
        return;
    }
    final_answer(c, a, now, now_us);
}

void CommandLedger::final_answer(Sent& c, const CommandAnswer& a, Clock::time_point now,
                                 std::int64_t now_us) {
    if (c.answered) {
        ++counts_.duplicate_answers;
        return;
    }
    c.answered = true;
    --open_;
    if (!c.delivered) {  // its Accepted was lost or overtaken: the final answer proves delivery
        c.delivered = true;
        ++counts_.delivered;
        to_device_.record(a.received_us - c.sent_us);
    }
    ++counts_.answered;
    if (a.result == CommandResult::Failed) ++counts_.failed;
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(now - c.scheduled);
    if (took > timeout_) ++counts_.answered_late;
    round_trip_.record(took.count());
    second_round_trip_.record(took.count());
    device_work_.record(a.answered_us - a.received_us);
    from_device_.record(now_us - a.answered_us);
    std::uint64_t& last = last_answered_seq_[c.device];
    if (c.seq < last)
        ++counts_.out_of_order;
    else
        last = c.seq;
}

CommandTotals CommandLedger::totals(Clock::time_point now) const {
    CommandTotals t = counts_;
    for (const auto& [id, c] : commands_) {
        if (c.answered) continue;
        if (now - c.scheduled > timeout_)
            ++t.lost;
        else
            ++t.pending;
    }
    return t;
}

std::vector<std::string> CommandLedger::silent_devices(Clock::time_point now, std::size_t n) const {
    std::map<std::string, std::uint64_t> unanswered;  // sorted: the same names every time
    for (const auto& [id, c] : commands_)
        if (!c.answered && now - c.scheduled > timeout_) ++unanswered[c.device];
    std::vector<std::string> names;
    for (const auto& [device, count] : unanswered) {
        if (names.size() == n) break;
        names.push_back(fmt::format("{} ({} unanswered)", device, count));
    }
    return names;
}

}  // namespace telemetry

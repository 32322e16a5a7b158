#include "telemetry/sequence_ledger.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <iterator>
#include <stdexcept>

namespace telemetry {
namespace {
constexpr std::size_t kContradictionExamples = 5;  // named in the report; all are counted
}  // namespace

SequenceLedger::Outcome SequenceLedger::record(std::uint64_t seq) {
    // Fast path: the next number of the highest range, the common case in a lossless run.
    if (!ranges_.empty()) {
        auto last = std::prev(ranges_.end());
        if (seq == last->second + 1) {
            last->second = seq;
            ++unique_;
            highest_ = seq;
            return Outcome::InOrder;
        }
    }

    auto next = ranges_.upper_bound(seq);  // first range starting after seq
    auto prev = next == ranges_.begin() ? ranges_.end() : std::prev(next);
    if (prev != ranges_.end() && prev->second >= seq) return Outcome::Duplicate;

    const bool joins_prev = prev != ranges_.end() && prev->second + 1 == seq;
    const bool joins_next = next != ranges_.end() && next->first == seq + 1;
    if (joins_prev && joins_next) {
        prev->second = next->second;
        ranges_.erase(next);
    } else if (joins_prev) {
        prev->second = seq;
    } else if (joins_next) {
        const std::uint64_t last = next->second;
        ranges_.erase(next);
        ranges_.emplace(seq, last);
    } else {
        ranges_.emplace(seq, seq);
    }
    ++unique_;
    const bool in_order = seq > highest_;
    if (in_order) highest_ = seq;
    return in_order ? Outcome::InOrder : Outcome::OutOfOrder;
}

std::uint64_t SequenceLedger::missing_up_to(std::uint64_t last) const {
    std::uint64_t delivered = unique_;
    // Numbers beyond `last` do not fill any gap below it (rare: only with a wrong summary).
    for (auto it = ranges_.rbegin(); it != ranges_.rend() && it->second > last; ++it) {
        const std::uint64_t from = it->first > last ? it->first : last + 1;
        delivered -= it->second - from + 1;
    }
    return last - delivered;
}

std::vector<SeqRange> SequenceLedger::gaps_up_to(std::uint64_t last, std::size_t limit) const {
    std::vector<SeqRange> gaps;
    std::uint64_t next_expected = 1;
    for (const auto& [first, end] : ranges_) {
        if (gaps.size() >= limit || next_expected > last) return gaps;
        if (first > next_expected) gaps.push_back({next_expected, std::min(first - 1, last)});
        next_expected = end + 1;
    }
    if (gaps.size() < limit && next_expected <= last) gaps.push_back({next_expected, last});
    return gaps;
}

std::uint64_t SequenceLedger::merge(const SequenceLedger& other) {
    // Both range lists are sorted: walk them together, joining ranges that overlap or touch.
    std::map<std::uint64_t, std::uint64_t> joined;
    auto a = ranges_.begin();
    auto b = other.ranges_.begin();
    while (a != ranges_.end() || b != other.ranges_.end()) {
        const bool take_a =
            b == other.ranges_.end() || (a != ranges_.end() && a->first <= b->first);
        const auto [first, last] = take_a ? *a++ : *b++;
        if (!joined.empty()) {
            auto& prev_last = std::prev(joined.end())->second;
            if (first <= prev_last + 1) {
                prev_last = std::max(prev_last, last);
                continue;
            }
        }
        joined.emplace(first, last);
    }
    std::uint64_t unique = 0;
    for (const auto& [first, last] : joined) unique += last - first + 1;
    const std::uint64_t both = unique_ + other.unique_ - unique;
    ranges_ = std::move(joined);
    unique_ = unique;
    highest_ = std::max(highest_, other.highest_);
    return both;
}

nlohmann::json SequenceLedger::state() const {
    nlohmann::json ranges = nlohmann::json::array();
    for (const auto& [first, last] : ranges_) ranges.push_back({first, last});
    return ranges;
}

SequenceLedger SequenceLedger::from_state(const nlohmann::json& state) {
    SequenceLedger ledger;
    std::uint64_t end = 0;  // ranges must be ascending and disjoint
    for (const auto& range : state) {
        const auto first = range.at(0).get<std::uint64_t>();
        const auto last = range.at(1).get<std::uint64_t>();
        if (first == 0 || last < first || (end != 0 && first <= end + 1))
            throw std::out_of_range("sequence ranges are not ascending and disjoint");
        ledger.ranges_.emplace(first, last);
        ledger.unique_ += last - first + 1;
        ledger.highest_ = end = last;
    }
    return ledger;
}

SequenceLedger::Outcome DeliveryLedger::record(std::string_view run, std::string_view device,
                                               std::uint64_t seq, std::uint64_t content) {
    ++received_;
    if (last_run_ == nullptr || run != last_run_id_) {
        auto it = runs_.find(run);
        if (it == runs_.end()) it = runs_.emplace(std::string(run), Run{}).first;
        last_run_ = &it->second;
        last_run_id_ = run;
    }
    auto dev = last_run_->devices.find(device);
    if (dev == last_run_->devices.end())
        dev = last_run_->devices.emplace(std::string(device), Device{}).first;
    const std::uint64_t announced = dev->second.expected_last;
    if (announced != 0 && seq > announced && !last_run_->provisional)
        contradiction(
            fmt::format("run {} device {}: reading {} arrived beyond the announced last {}", run,
                        device, seq, announced));
    const auto outcome = dev->second.seqs.record(seq);
    if (content != 0)
        check_content(dev->second, run, device, seq, content,
                      outcome == SequenceLedger::Outcome::Duplicate);
    if (outcome == SequenceLedger::Outcome::Duplicate) ++duplicates_;
    if (outcome == SequenceLedger::Outcome::OutOfOrder) ++out_of_order_;
    return outcome;
}

void DeliveryLedger::check_content(const Device& device, std::string_view run,
                                   std::string_view name, std::uint64_t seq, std::uint64_t content,
                                   bool duplicate) {
    if (recent_.empty()) recent_.resize(recent_slots_);
    // A device's node never moves (std::map), so its address names (run, device) here.
    std::uint64_t key = reinterpret_cast<std::uintptr_t>(&device) ^ (seq * 0x9E3779B97F4A7C15u);
    key ^= key >> 31;
    key *= 0xBF58476D1CE4E5B9u;
    key ^= key >> 29;
    RecentSlot& slot = recent_[key & (recent_slots_ - 1)];
    if (!duplicate) {
        slot = {key, content};
        return;
    }
    if (slot.key == key && slot.content != content)
        contradiction(
            fmt::format("run {} device {}: reading {} arrived twice with different "
                        "values (another publisher using this run id?)",
                        run, name, seq));
}

void DeliveryLedger::expect(const RunSummary& summary, const TopicScope& in_scope) {
    auto it = runs_.find(summary.run);
    if (it == runs_.end()) it = runs_.emplace(summary.run, Run{}).first;
    Run& run = it->second;
    const std::uint64_t said = claim_digest(summary);
    const auto [first, inserted] = run.shard_summaries.emplace(summary.shard, said);
    const bool supersedes = !inserted && run.provisional;
    if (supersedes) first->second = said;
    if (!inserted && !supersedes && first->second != said)
        return contradiction(fmt::format(
            "run {}{}: a second run summary differs from the first", summary.run,
            summary.shards > 1 ? fmt::format(" shard {}", summary.shard) : std::string()));
    run.provisional = summary.interrupted;
    run.shards = std::max(run.shards, summary.shards);
    run.shards_in.insert(summary.shard);
    run.summarised = run.shards_in.size() >= run.shards;
    run.announced[summary.shard] = summary.devices.size();
    for (const DeviceSummary& d : summary.devices) {
        if (in_scope && !d.topic.empty() && !in_scope(d.topic)) continue;
        auto dev = run.devices.find(d.device);
        if (dev == run.devices.end()) dev = run.devices.emplace(d.device, Device{}).first;
        if (dev->second.seqs.highest() > d.last_seq && !summary.interrupted)
            contradiction(fmt::format(
                "run {} device {}: readings up to {} arrived, the run summary announced {}",
                summary.run, d.device, dev->second.seqs.highest(), d.last_seq));
        dev->second.expected_last = d.last_seq;
    }
}

void DeliveryLedger::contradiction(std::string what) {
    ++contradictions_;
    if (contradiction_examples_.size() < kContradictionExamples)
        contradiction_examples_.push_back(std::move(what));
}

void DeliveryLedger::merge(const DeliveryLedger& other) {
    for (const auto& [id, theirs] : other.runs_) {
        Run& run = runs_[id];
        run.shards = std::max(run.shards, theirs.shards);
        run.shards_in.insert(theirs.shards_in.begin(), theirs.shards_in.end());
        run.summarised = run.summarised || theirs.summarised ||
                         (!run.shards_in.empty() && run.shards_in.size() >= run.shards);
        for (const auto& [name, dev] : theirs.devices) {
            Device& mine = run.devices[name];
            duplicates_ += mine.seqs.merge(dev.seqs);
            mine.expected_last = std::max(mine.expected_last, dev.expected_last);
        }
        for (const auto& [shard, n] : theirs.announced)
            run.announced[shard] = std::max(run.announced[shard], n);
    }
    received_ += other.received_;
    duplicates_ += other.duplicates_;
    out_of_order_ += other.out_of_order_;
    malformed_ += other.malformed_;
    corrupt_ += other.corrupt_;
    contradictions_ += other.contradictions_;
    for (const std::string& e : other.contradiction_examples_)
        if (contradiction_examples_.size() < kContradictionExamples)
            contradiction_examples_.push_back(e);
}

bool DeliveryLedger::complete() const {
    for (const auto& [id, run] : runs_) {
        if (!run.summarised) return false;  // a run still going: wait for it [issue 29]
        for (const auto& [name, dev] : run.devices)
            if (dev.seqs.missing_up_to(dev.last_expected()) != 0) return false;
    }
    return !runs_.empty();
}

bool DeliveryLedger::summarised() const {
    for (const auto& [id, run] : runs_)
        if (!run.summarised) return false;
    return !runs_.empty();
}

LedgerTotals DeliveryLedger::totals() const {
    LedgerTotals t;
    t.received = received_;
    t.duplicates = duplicates_;
    t.out_of_order = out_of_order_;
    t.malformed = malformed_;
    t.corrupt = corrupt_;
    t.contradictions = contradictions_;
    for (const auto& [id, run] : runs_) {
        t.runs_unsummarised += run.summarised ? 0 : 1;
        std::uint64_t announced = 0, expected = 0;
        for (const auto& [shard, n] : run.announced) announced += n;
        for (const auto& [name, dev] : run.devices) {
            const std::uint64_t missing = dev.seqs.missing_up_to(dev.last_expected());
            t.unique += dev.seqs.unique();
            t.missing += missing;
            t.expected += dev.last_expected();
            expected += dev.expected_last != 0 ? 1 : 0;
            ++t.devices;
            t.devices_seen += dev.seqs.unique() > 0 ? 1 : 0;
            t.devices_complete += missing == 0 ? 1 : 0;
            t.devices_with_loss += missing > 0 ? 1 : 0;
        }
        t.devices_outside += announced > expected ? announced - expected : 0;
    }
    return t;
}

nlohmann::json DeliveryLedger::state() const {
    nlohmann::json runs = nlohmann::json::object();
    for (const auto& [id, run] : runs_) {
        nlohmann::json devices = nlohmann::json::object();
        for (const auto& [name, dev] : run.devices)
            devices[name] = {{"delivered", dev.seqs.state()}, {"expected_last", dev.expected_last}};
        runs[id] = {{"summarised", run.summarised},
                    {"shards", run.shards},
                    {"shards_in", run.shards_in},
                    {"provisional", run.provisional},
                    {"devices", devices}};
        if (!run.announced.empty()) {
            nlohmann::json announced = nlohmann::json::object();
            for (const auto& [shard, n] : run.announced) announced[std::to_string(shard)] = n;
            runs[id]["announced"] = std::move(announced);
        }
    }
    return {{"runs", runs},
            {"received", received_},
            {"duplicates", duplicates_},
            {"out_of_order", out_of_order_},
            {"malformed", malformed_},
            {"corrupt", corrupt_},
            {"contradictions", contradictions_},
            {"contradiction_examples", contradiction_examples_}};
}

DeliveryLedger DeliveryLedger::from_state(const nlohmann::json& state) {
    DeliveryLedger ledger;
    for (const auto& [id, run_state] : state.at("runs").items()) {
        Run& run = ledger.runs_[id];
        run.summarised = run_state.at("summarised").get<bool>();
        run.shards = run_state.value("shards", std::uint32_t{1});
        run.shards_in = run_state.value("shards_in", std::set<std::uint32_t>{});
        run.provisional = run_state.value("provisional", false);
        if (const auto announced = run_state.find("announced"); announced != run_state.end())
            for (const auto& [shard, n] : announced->items())
                run.announced[static_cast<std::uint32_t>(std::stoul(shard))] =
                    n.get<std::uint64_t>();
        for (const auto& [name, dev_state] : run_state.at("devices").items()) {
            Device& dev = run.devices[name];
            dev.seqs = SequenceLedger::from_state(dev_state.at("delivered"));
            dev.expected_last = dev_state.at("expected_last").get<std::uint64_t>();
        }
    }
    ledger.received_ = state.at("received").get<std::uint64_t>();
    ledger.duplicates_ = state.at("duplicates").get<std::uint64_t>();
    ledger.out_of_order_ = state.at("out_of_order").get<std::uint64_t>();
    ledger.malformed_ = state.at("malformed").get<std::uint64_t>();
    ledger.corrupt_ = state.at("corrupt").get<std::uint64_t>();
    // Older states lack them. A run's first summaries are not kept: a restored ledger compares
    // a later summary with none (the journal replays summaries, and compares them again).
    ledger.contradictions_ = state.value("contradictions", std::uint64_t{0});
    ledger.contradiction_examples_ =
        state.value("contradiction_examples", std::vector<std::string>{});
    return ledger;
}

std::vector<DeviceGap> DeliveryLedger::gaps(std::size_t limit) const {
    std::vector<DeviceGap> out;
    for (const auto& [id, run] : runs_) {
        for (const auto& [name, dev] : run.devices) {
            if (out.size() >= limit) return out;
            for (const SeqRange& r : dev.seqs.gaps_up_to(dev.last_expected(), limit - out.size()))
                out.push_back({id, name, r});
        }
    }
    return out;
}

std::map<std::pair<std::string, std::string>, std::uint64_t> DeliveryLedger::last_readings() const {
    std::map<std::pair<std::string, std::string>, std::uint64_t> last;
    for (const auto& [id, run] : runs_)
        for (const auto& [name, dev] : run.devices)
            if (dev.expected_last != 0) last[{id, name}] = dev.expected_last;
    return last;
}

}  // namespace telemetry

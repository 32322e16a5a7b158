#pragma once
// Per-device and per-run accounting of sequence numbers: what arrived, what is missing,
// what came twice or out of order. Pure logic; the subscriber feeds it decoded readings.

#include <algorithm>
#include <bit>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "telemetry/run_summary.hpp"

namespace telemetry {

struct SeqRange {
    std::uint64_t first{};
    std::uint64_t last{};
    bool operator==(const SeqRange&) const = default;
};

// The sequence numbers one device delivered, kept as a set of disjoint ranges: a lossless
// run is one range, so memory grows with the number of gaps, not with the message count.
class SequenceLedger {
  public:
    enum class Outcome { InOrder, OutOfOrder, Duplicate };

    Outcome record(std::uint64_t seq);

    std::uint64_t unique() const { return unique_; }
    std::uint64_t highest() const { return highest_; }
    // Sequence numbers in [1, last] that never arrived.
    std::uint64_t missing_up_to(std::uint64_t last) const;
    // The first `limit` ranges of [1, last] that never arrived, lowest first.
    std::vector<SeqRange> gaps_up_to(std::uint64_t last, std::size_t limit) const;

    // Adds what `other` delivered (another consumer's share of the same device). Returns how
    // many sequence numbers both delivered: duplicates across the two.
    std::uint64_t merge(const SequenceLedger& other);

    // The delivered ranges, [[first, last], ...], to save and restore.
    nlohmann::json state() const;
    static SequenceLedger from_state(const nlohmann::json& state);

  private:
    std::map<std::uint64_t, std::uint64_t> ranges_;  // first -> last, disjoint, non-adjacent
    std::uint64_t unique_{0};
    std::uint64_t highest_{0};
};

struct DeviceGap {
    std::string run;
    std::string device;
    SeqRange range;
};

struct LedgerTotals {
    std::uint64_t received{};      // every telemetry message that arrived, duplicates included
    std::uint64_t unique{};        // distinct (run, device, seq) delivered
    std::uint64_t missing{};       // expected but not (yet) delivered
    std::uint64_t duplicates{};    // arrived again after the first delivery
    std::uint64_t out_of_order{};  // arrived after a higher sequence number of the same device
    std::uint64_t malformed{};     // not valid per the payload schema
    std::uint64_t corrupt{};       // checksum mismatch: damaged on the way
    std::uint64_t expected{};      // what the summaries announced, else the highest seen
    // Per device (one run's device counts once per run): known from a reading or a summary;
    // seen = delivered at least one reading; complete = nothing missing; with loss = some.
    std::uint64_t devices{};
    std::uint64_t devices_seen{};
    std::uint64_t devices_complete{};
    std::uint64_t devices_with_loss{};
    // Devices the summaries announced on topics outside this consumer's subscriptions.
    std::uint64_t devices_outside{};
    // Runs with readings here but without every shard's run summary: what they published is
    // unknown, so their delivery cannot be verified.
    std::uint64_t runs_unsummarised{};
    // What arrived and what was announced cannot both be true (a forged or conflicting run
    // summary, or readings beyond the announced end): never VERIFIED.
    std::uint64_t contradictions{};
};

// Accounting for every run and device seen by one consumer.
class DeliveryLedger {
  public:
    // `content` is the reading's content_digest() (telemetry/payload.hpp), 0 when unknown: a
    // duplicate of a recent reading with other content is a contradiction, not a redelivery.
    SequenceLedger::Outcome record(std::string_view run, std::string_view device, std::uint64_t seq,
                                   std::uint64_t content = 0);
    void record_malformed() { ++malformed_; }
    // How many recent readings a duplicate's content is compared with (kRecentSlots, 16 bytes
    // each, by default): many ledgers in one process (a subscriber fleet) keep fewer each.
    // Rounded down to a power of two, at least 1,024; before the first record() only.
    void keep_recent(std::size_t readings) {
        recent_slots_ = std::max<std::size_t>(std::bit_floor(readings), 1024);
    }
    std::size_t recent_readings() const { return recent_slots_; }
    // Neither counts as delivered: the sequence number stays missing until a good copy comes.
    void record_corrupt() { ++corrupt_; }
    // A run summary tells the ledger what that run published, including devices and tail
    // messages that never arrived at all. With `in_scope`, only the devices whose topic it
    // accepts (or that name no topic) are expected: the others publish where this consumer's
    // subscriptions do not reach, and are counted as outside.
    using TopicScope = std::function<bool(std::string_view topic)>;
    void expect(const RunSummary& summary, const TopicScope& in_scope = {});

    // True when every run seen is summarised and fully delivered.
    bool complete() const;
    // The first few contradictions, in words, for the verdict line and the report.
    const std::vector<std::string>& contradiction_examples() const {
        return contradiction_examples_;
    }
    // True when there is a run and every run has every shard's summary in (delivered or not).
    bool summarised() const;
    // Cheap running figures for the hot path; totals() walks every device.
    std::uint64_t received() const { return received_; }
    std::uint64_t unique() const { return received_ - duplicates_; }
    LedgerTotals totals() const;
    std::vector<DeviceGap> gaps(std::size_t limit) const;
    // Each expected device's last reading, from its run's summary: (run, device) -> seq.
    std::map<std::pair<std::string, std::string>, std::uint64_t> last_readings() const;

    // Adds another consumer's accounting (a shared-subscription member, a subscriber on
    // another broker): a number both delivered is a duplicate, a gap in one that the other
    // filled is not missing, and a run is summarised once every shard's summary is in either.
    // Out of order is each consumer's own count: order across consumers is not defined.
    void merge(const DeliveryLedger& other);

    // Everything it holds, to save and restore (a crash-safe subscriber's state). from_state
    // throws nlohmann::json::exception or std::out_of_range on a damaged state.
    nlohmann::json state() const;
    static DeliveryLedger from_state(const nlohmann::json& state);

  private:
    struct Device {
        SequenceLedger seqs;
        std::uint64_t expected_last{0};  // from the summary; 0 = unknown, use highest seen
        std::uint64_t last_expected() const {
            return expected_last != 0 ? expected_last : seqs.highest();
        }
    };
    struct Run {
        std::map<std::string, Device, std::less<>> devices;
        bool summarised{false};  // every shard's summary is in
        std::uint32_t shards{1};
        std::set<std::uint32_t> shards_in;  // of a sharded run, the summaries in so far
        // A digest of each shard's summary as first received (not the summary: one naming a
        // million devices is 49 MB): a second one must say the same, unless the first was an
        // interrupted publisher's (a resumed process summarises the whole run).
        std::map<std::uint32_t, std::uint64_t> shard_summaries;  // claim_digest()
        bool provisional{false};  // the summary in is an interrupted publisher's
        // How many devices each shard's summary named: those of them not expected here (no
        // expected_last) are outside the consumer's subscriptions, and after a merge, outside
        // every consumer's.
        std::map<std::uint32_t, std::uint64_t> announced;
    };
    void contradiction(std::string what);
    // What the recent readings said, to tell a redelivery (the same reading again) from a
    // second publisher using the run id (other values under the same sequence numbers) [issue
    // 29]. Direct-mapped and bounded (kRecentSlots, 512 KB): a duplicate whose original has been
    // overwritten, or one after a restart of the subscriber, is not compared.
    struct RecentSlot {
        std::uint64_t key{0};
        std::uint64_t content{0};
    };
    static constexpr std::size_t kRecentSlots = std::size_t{1} << 15;
    std::size_t recent_slots_{kRecentSlots};  // a power of two
    void check_content(const Device& device, std::string_view run, std::string_view name,
                       std::uint64_t seq, std::uint64_t content, bool duplicate);
    std::vector<RecentSlot> recent_;
    std::map<std::string, Run, std::less<>> runs_;
    Run* last_run_{nullptr};  // messages come in long streams from one run: skip the lookup
    std::string last_run_id_;
    std::uint64_t received_{0};
    std::uint64_t duplicates_{0};
    std::uint64_t out_of_order_{0};
    std::uint64_t malformed_{0};
    std::uint64_t corrupt_{0};
    std::uint64_t contradictions_{0};
    std::vector<std::string> contradiction_examples_;
};

}  // namespace telemetry

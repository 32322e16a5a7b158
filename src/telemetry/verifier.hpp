#pragma once
// The first sink of every subscriber: the per-device ledger (missing, duplicate, out of order,
// malformed, corrupt), end-to-end latency, the first few reasons of bad messages, and the run
// summaries. Everything it learns from a message is one Fact; a FactLog (the crash-safe state
// of --state-dir) sees every fact, and replaying the facts rebuilds the verifier.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "telemetry/device_latency.hpp"
#include "telemetry/latency_histogram.hpp"
#include "telemetry/message_sink.hpp"
#include "telemetry/repair.hpp"
#include "telemetry/sequence_ledger.hpp"

namespace telemetry {

// What one message told the verifier. Views valid only during the call that takes it.
struct Fact {
    enum class Kind : char { Reading = 'r', Malformed = 'm', Corrupt = 'c', Summary = 's' };
    Kind kind{Kind::Reading};
    std::string_view run{}, device{};  // Reading
    std::uint64_t seq{0};
    std::int64_t latency_us{0};
    std::uint64_t content{0};            // telemetry::content_digest; 0 when not known (a replay)
    std::string_view topic{}, reason{};  // Malformed, Corrupt
    std::string_view payload{};          // Summary: the run summary as published
};

class FactLog {
  public:
    virtual ~FactLog() = default;
    virtual void append(const Fact& fact) = 0;
};

class Verifier final : public telemetry::MessageSink {
  public:
    static constexpr std::size_t kExamples = 5;

    void accept(const telemetry::Delivery& delivery) override;
    // A run summary (its payload, decoded): what that run published, so loss at its end shows.
    void expect(const telemetry::RunSummary& summary, std::string_view payload);
    // Expect only the devices whose topic `in_scope` accepts (the subscriptions' filters):
    // before the first summary, replayed ones included.
    void scope_to(telemetry::DeliveryLedger::TopicScope in_scope) { scope_ = std::move(in_scope); }
    // A control message that could not be decoded.
    void record_malformed(std::string_view topic, std::string_view reason);

    // End-to-end repair: a range asked for again; a reading that fills it counts as recovered.
    void note_requested(std::string_view run, const telemetry::RepairRange& range);
    std::uint64_t recovered() const { return recovered_; }

    // Every fact from now on also goes to `log`, which must outlive the verifier.
    void log_to(FactLog& log) { log_ = &log; }
    // Applies a fact read back from a log (not logged again). Throws std::invalid_argument for
    // a summary that does not decode.
    void replay(const Fact& fact);
    // Everything it holds, to save; restore() throws on a damaged state.
    nlohmann::json state() const;
    void restore(const nlohmann::json& state);
    // Joins another consumer's view (mqtt_report): ledgers and latency merge exactly, so a
    // reading both saw is one delivery and one duplicate; summaries and repairs are pooled.
    void merge(const Verifier& other);

    // Totals, with the messages a --count promised but never delivered counted as missing.
    telemetry::LedgerTotals totals(std::optional<std::uint64_t> count = std::nullopt) const;
    const telemetry::DeliveryLedger& ledger() const { return ledger_; }
    // Fewer recent readings kept for comparing duplicates (DeliveryLedger::keep_recent).
    void keep_recent(std::size_t readings) { ledger_.keep_recent(readings); }
    const telemetry::LatencyHistogram& latency() const { return latency_; }
    // Per device, to name the slowest (not kept in the saved state: a restart starts it anew).
    const telemetry::DeviceLatencies& device_latency() const { return device_latency_; }
    // The latency since the last call, for one timeline row.
    telemetry::LatencyHistogram take_second_latency();
    const std::vector<std::string>& malformed_examples() const { return malformed_examples_; }
    const std::vector<std::string>& corrupt_examples() const { return corrupt_examples_; }
    const std::vector<std::string>& summaries() const { return summaries_; }  // run ids

  private:
    void apply(const Fact& fact);
    void count_if_requested(const Fact& fact);
    static void note(std::vector<std::string>& examples, std::string_view topic,
                     std::string_view reason);

    telemetry::DeliveryLedger ledger_;
    telemetry::LatencyHistogram latency_;  // end to end, whole run
    telemetry::DeviceLatencies device_latency_;
    telemetry::LatencyHistogram latency_second_;  // end to end, current second
    std::vector<std::string> malformed_examples_;
    std::vector<std::string> corrupt_examples_;
    std::vector<std::string> summaries_;
    // "run/device" -> ranges asked for again (few: only what went missing).
    std::map<std::string, std::vector<telemetry::SeqRange>> requested_;
    std::uint64_t recovered_{0};
    FactLog* log_{nullptr};
    telemetry::DeliveryLedger::TopicScope scope_;
};

}  // namespace telemetry

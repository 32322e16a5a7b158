#pragma once
// The first sink of every subscriber: the per-device ledger (missing, duplicate, out of order,
// malformed, corrupt), end-to-end latency, and the first few reasons of bad messages.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/message_sink.hpp"
#include "telemetry/latency_histogram.hpp"
#include "telemetry/sequence_ledger.hpp"

namespace app {

class Verifier final : public MessageSink {
  public:
    static constexpr std::size_t kExamples = 5;

    void accept(const Delivery& delivery) override;
    // A run summary: what that run published, so loss at its end shows too.
    void expect(const telemetry::RunSummary& summary) { ledger_.expect(summary); }
    // A control message that could not be decoded.
    void record_malformed(std::string_view topic, const std::string& reason);

    // Totals, with the messages a --count promised but never delivered counted as missing.
    telemetry::LedgerTotals totals(std::optional<std::uint64_t> count = std::nullopt) const;
    const telemetry::DeliveryLedger& ledger() const { return ledger_; }
    const telemetry::LatencyHistogram& latency() const { return latency_; }
    // The latency since the last call, for one timeline row.
    telemetry::LatencyHistogram take_second_latency();
    const std::vector<std::string>& malformed_examples() const { return malformed_examples_; }
    const std::vector<std::string>& corrupt_examples() const { return corrupt_examples_; }

  private:
    static void note(std::vector<std::string>& examples, std::string_view topic,
                     const std::string& reason);

    telemetry::DeliveryLedger ledger_;
    telemetry::LatencyHistogram latency_;         // end to end, whole run
    telemetry::LatencyHistogram latency_second_;  // end to end, current second
    std::vector<std::string> malformed_examples_;
    std::vector<std::string> corrupt_examples_;
};

}  // namespace app

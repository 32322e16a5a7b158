#include "app/verifier.hpp"

#include <algorithm>

namespace app {

void Verifier::accept(const Delivery& d) {
    const telemetry::DecodedReading& decoded = d.decoded;
    if (decoded.problem == telemetry::DecodeProblem::Corrupt) {
        // Neither corrupt nor malformed counts as delivered: the sequence number stays missing
        // until an intact copy arrives.
        ledger_.record_corrupt();
        return note(corrupt_examples_, d.topic, decoded.error);
    }
    if (!decoded.reading) {
        ledger_.record_malformed();
        return note(malformed_examples_, d.topic, decoded.error);
    }
    const telemetry::Reading& r = *decoded.reading;
    if (ledger_.record(r.run, r.device, r.seq) == telemetry::SequenceLedger::Outcome::Duplicate)
        return;
    // End to end: from the (scheduled) send time in the payload to arrival here.
    const std::int64_t latency = d.arrived_epoch_us - r.ts_us;
    latency_.record(latency);
    latency_second_.record(latency);
}

void Verifier::record_malformed(std::string_view topic, const std::string& reason) {
    ledger_.record_malformed();
    note(malformed_examples_, topic, reason);
}

telemetry::LedgerTotals Verifier::totals(std::optional<std::uint64_t> count) const {
    telemetry::LedgerTotals t = ledger_.totals();
    if (count && *count > t.unique) {
        t.missing = std::max(t.missing, *count - t.unique);
        t.expected = std::max(t.expected, *count);
    }
    return t;
}

telemetry::LatencyHistogram Verifier::take_second_latency() {
    telemetry::LatencyHistogram second = latency_second_;
    latency_second_.reset();
    return second;
}

void Verifier::note(std::vector<std::string>& examples, std::string_view topic,
                    const std::string& reason) {
    if (examples.size() < kExamples) examples.push_back(std::string(topic) + ": " + reason);
}

}  // namespace app

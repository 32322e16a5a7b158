#include "telemetry/verifier.hpp"

#include <algorithm>
#include <stdexcept>

#include "telemetry/run_summary.hpp"

namespace telemetry {

void Verifier::accept(const telemetry::Delivery& d) {
    const telemetry::DecodedReading& decoded = d.decoded;
    Fact fact;
    if (decoded.problem == telemetry::DecodeProblem::Corrupt) {
        fact.kind = Fact::Kind::Corrupt;
        fact.topic = d.topic;
        fact.reason = decoded.error;
    } else if (!decoded.reading) {
        fact.kind = Fact::Kind::Malformed;
        fact.topic = d.topic;
        fact.reason = decoded.error;
    } else {
        const telemetry::Reading& r = *decoded.reading;
        fact.run = r.run;
        fact.device = r.device;
        fact.seq = r.seq;
        fact.content = decoded.content;
        // End to end: from the (scheduled) send time in the payload to arrival here.
        fact.latency_us = d.arrived_epoch_us - r.ts_us;
    }
    if (log_ != nullptr) log_->append(fact);
    apply(fact);
}

void Verifier::expect(const telemetry::RunSummary& summary, std::string_view payload) {
    if (log_ != nullptr) {
        Fact fact;
        fact.kind = Fact::Kind::Summary;
        fact.payload = payload;
        log_->append(fact);
    }
    ledger_.expect(summary, scope_);
    summaries_.push_back(summary.run);
}

void Verifier::record_malformed(std::string_view topic, std::string_view reason) {
    Fact fact;
    fact.kind = Fact::Kind::Malformed;
    fact.topic = topic;
    fact.reason = reason;
    if (log_ != nullptr) log_->append(fact);
    apply(fact);
}

void Verifier::replay(const Fact& fact) {
    if (fact.kind != Fact::Kind::Summary) return apply(fact);
    const auto decoded = telemetry::decode_run_summary(fact.payload);
    if (!decoded.summary) throw std::invalid_argument("a saved run summary: " + decoded.error);
    ledger_.expect(*decoded.summary, scope_);
    summaries_.push_back(decoded.summary->run);
}

void Verifier::apply(const Fact& fact) {
    switch (fact.kind) {
        case Fact::Kind::Reading:
            if (ledger_.record(fact.run, fact.device, fact.seq, fact.content) ==
                telemetry::SequenceLedger::Outcome::Duplicate)
                return;
            if (!requested_.empty()) count_if_requested(fact);
            latency_.record(fact.latency_us);
            latency_second_.record(fact.latency_us);
            device_latency_.record(fact.device, fact.latency_us);
            return;
        case Fact::Kind::Corrupt:
            // Neither corrupt nor malformed counts as delivered: the sequence number stays
            // missing until an intact copy arrives.
            ledger_.record_corrupt();
            return note(corrupt_examples_, fact.topic, fact.reason);
        case Fact::Kind::Malformed:
            ledger_.record_malformed();
            return note(malformed_examples_, fact.topic, fact.reason);
        case Fact::Kind::Summary:
            return;  // expect() and replay() decode it
    }
}

void Verifier::note_requested(std::string_view run, const telemetry::RepairRange& range) {
    requested_[std::string(run) + "/" + range.device].push_back({range.first, range.last});
}

void Verifier::count_if_requested(const Fact& fact) {
    const auto it = requested_.find(std::string(fact.run) + "/" + std::string(fact.device));
    if (it == requested_.end()) return;
    for (const telemetry::SeqRange& r : it->second)
        if (fact.seq >= r.first && fact.seq <= r.last) {
            ++recovered_;
            return;
        }
}

nlohmann::json Verifier::state() const {
    nlohmann::json requested = nlohmann::json::object();
    for (const auto& [key, ranges] : requested_)
        for (const auto& r : ranges) requested[key].push_back({r.first, r.last});
    return {{"recovered", recovered_},
            {"requested", requested},
            {"ledger", ledger_.state()},
            {"latency", latency_.state()},
            {"malformed_examples", malformed_examples_},
            {"corrupt_examples", corrupt_examples_},
            {"summaries", summaries_}};
}

void Verifier::restore(const nlohmann::json& state) {
    ledger_ = telemetry::DeliveryLedger::from_state(state.at("ledger"));
    latency_ = telemetry::LatencyHistogram::from_state(state.at("latency"));
    const auto examples = [&](const char* key) {
        return state.value(key, std::vector<std::string>{});
    };
    malformed_examples_ = examples("malformed_examples");
    corrupt_examples_ = examples("corrupt_examples");
    summaries_ = state.at("summaries").get<std::vector<std::string>>();
    recovered_ = state.value("recovered", std::uint64_t{0});
    requested_.clear();
    const nlohmann::json requested = state.value("requested", nlohmann::json::object());
    for (const auto& [key, ranges] : requested.items())
        for (const auto& r : ranges)
            requested_[key].push_back({r.at(0).get<std::uint64_t>(), r.at(1).get<std::uint64_t>()});
}

telemetry::LedgerTotals Verifier::totals(std::optional<std::uint64_t> count) const {
    telemetry::LedgerTotals t = ledger_.totals();
    if (count) t.runs_unsummarised = 0;  // the count decides, not the publisher's totals
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

void Verifier::merge(const Verifier& other) {
    ledger_.merge(other.ledger_);
    latency_.merge(other.latency_);
    for (const std::string& e : other.malformed_examples_)
        if (malformed_examples_.size() < kExamples) malformed_examples_.push_back(e);
    for (const std::string& e : other.corrupt_examples_)
        if (corrupt_examples_.size() < kExamples) corrupt_examples_.push_back(e);
    for (const std::string& run : other.summaries_)
        if (std::find(summaries_.begin(), summaries_.end(), run) == summaries_.end())
            summaries_.push_back(run);
    std::sort(summaries_.begin(), summaries_.end());
    for (const auto& [key, ranges] : other.requested_)
        requested_[key].insert(requested_[key].end(), ranges.begin(), ranges.end());
    recovered_ += other.recovered_;
}

void Verifier::note(std::vector<std::string>& examples, std::string_view topic,
                    std::string_view reason) {
    if (examples.size() < kExamples)
        examples.push_back(std::string(topic) + ": " + std::string(reason));
}

}  // namespace telemetry

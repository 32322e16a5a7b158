#pragma once
// One verdict for a run spread over several processes: the --report files of any number of
// publishers (shards, hosts) and subscribers (shared-subscription members, consumers on other
// brokers) merged into one publisher and one subscriber report of the usual shape.
//
// The subscriber merge is exact, by one of two rules. Members of one share group split the
// messages: their per-device sequence ledgers (the report's "state") are joined, so a message
// two members got is one delivery and one duplicate, and a gap in one member that another
// filled is not missing. Subscribers that are not in a share group each receive every message
// (fan-out): each independent subscriber, and each share group as a whole, is a consumer
// judged on its own ledger, and the run is verified only when every consumer is complete; the
// report lists the consumers and the amplification (deliveries per published message). Each
// member says which rule counted it. Latency histograms merge bucket by bucket; timelines are
// summed per wall-clock second.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/model.hpp"
#include "telemetry/verdict.hpp"

namespace report {

struct Input {
    std::string name;  // the file, for error messages and the members table
    nlohmann::json doc;
};

// The report in `in`, read as its program's; throws std::runtime_error naming the input when it
// is another program's report or a field has the wrong type. Inputs are taken, not copied: a
// subscriber's state is most of its report.
SubscriberReport read_subscriber(Input in);
PublisherReport read_publisher(Input in);
CommanderReport read_commander(Input in);

// A report already read, with the name of its file.
template <class Report>
struct Named {
    std::string name;
    Report report;
};

// Throws std::runtime_error naming the input that is not a mergeable report of that program.
SubscriberReport merge_subscribers(std::vector<Input> inputs);
SubscriberReport merge_subscribers(std::vector<Named<SubscriberReport>> reports);
PublisherReport merge_publishers(std::vector<Input> inputs);
// Commanders of one run's shards (each commanding its own devices): counts added, latencies
// merged bucket by bucket, each member's failed checks kept under its name.
CommanderReport merge_commanders(std::vector<Input> inputs);

// The verdict of the reports (any may be null), by telemetry::judge: the subscribers' ledger
// decides, as for one subscriber; publishers that left messages unconfirmed or ended in error
// fail it too, and so does a command ledger with a failed check.
telemetry::Verdict verdict(const PublisherReport* publisher, const SubscriberReport* subscriber,
                           const CommanderReport* commander = nullptr);

}  // namespace report

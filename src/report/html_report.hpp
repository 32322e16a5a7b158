#pragma once
// Renders run reports (the JSON documents of --report) as one self-contained HTML file:
// the verdict in one line, then throughput and latency over time, the latency histogram and
// the first gaps, as inline SVG drawn here. No scripts, no network: it opens offline.

#include <string>

#include "report/model.hpp"

namespace report {

// Any report may be null (a subscriber writes its own report without the publisher's); the
// commander's, when given, adds the command ledger and joins the verdict.
std::string render_html(const PublisherReport* publisher, const SubscriberReport* subscriber,
                        const CommanderReport* commander = nullptr);

}  // namespace report

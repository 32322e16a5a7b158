#pragma once
// The publisher's payload flags: --payload-format, --payload-size, --envelope,
// --payload-template and --payload-file (telemetry/payload_format.hpp), checked together with
// the run's ids, and the template or the files read in.

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "app/publisher.hpp"

namespace app {

void add_payload_flags(CLI::App& cli, PublisherOptions& o);
// Parses, loads and checks the payload options; the problem, if any, as one line.
std::optional<std::string> validate_payload(PublisherOptions& p, const CLI::App& cli);

}  // namespace app

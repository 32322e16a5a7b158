#pragma once
// The standard process_* metrics of Prometheus client libraries (CPU, memory, descriptors,
// start time), read from /proc/self, so that a fleet's cost per connection shows in Grafana.

#include "metrics/exposition.hpp"

namespace metrics {

void write_process_metrics(Exposition& out);

}  // namespace metrics

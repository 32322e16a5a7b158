#pragma once
// mqtt_report: one verdict and one report from the --report JSON files of any number of
// publishers and subscribers (shards, shared-subscription members, hosts), merged exactly.

namespace app {

// The whole main() of mqtt_report.
int run_report_command(int argc, char** argv);

}  // namespace app

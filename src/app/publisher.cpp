#include "app/publisher.hpp"

#include "app/exit_status.hpp"
#include "app/output_file.hpp"
#include "app/publisher_run.hpp"
#include "app/signals.hpp"

namespace app {

int run_publisher(const PublisherOptions& o) {
    constexpr const char* kProgram = "mqtt_publisher";
    install_stop_signals();
    const OutputFile report_file(kProgram, "the report file", o.output.report_file);
    const OutputFile csv_file(kProgram, "the CSV file", o.csv_file);
    if (!report_file.prepare() || !csv_file.prepare()) return kUsageError;

    ProgressLine progress(kProgram, !o.output.quiet);
    const auto client = mqtt::make_client(o.engine);
    PublisherRun run(o, *client, progress, stop_requested);
    const int status = run.run();
    report_file.write(run.report().dump(2) + "\n");
    csv_file.write(run.timeline_csv());
    return status;
}

}  // namespace app

#include "app/subscriber.hpp"

#include "app/connection_hold.hpp"
#include "app/exit_status.hpp"
#include "app/metrics_output.hpp"
#include "app/output_file.hpp"
#include "app/print_sink.hpp"
#include "app/signals.hpp"
#include "app/subscriber_fleet.hpp"
#include "app/subscriber_run.hpp"
#include "app/subscriber_state.hpp"
#include "net/event_loop.hpp"
#include "report/html_report.hpp"
#include "store/reading_store.hpp"

namespace app {
namespace {

// --connections N: the fleet's verdict, HTML page and report (the merged one).
int run_fleet(const SubscriberOptions& options, ProgressLine& progress,
              const OutputFile& report_file, const OutputFile& html_file) {
    net::EventLoop loop;
    SubscriberFleet fleet(options, loop, progress, stop_requested);
    const int status = fleet.run();
    if (html_file.wanted()) html_file.write(report::render_html(nullptr, &fleet.report()));
    report_file.write(report::take_into_json(report::SubscriberReport(fleet.report())).dump(2) +
                      "\n");
    return status;
}

// --connect-only: the connections' verdict and report.
int run_hold(const SubscriberOptions& options, ProgressLine& progress,
             const OutputFile& report_file) {
    net::EventLoop loop;
    ConnectionHold hold(options, loop, progress, stop_requested);
    const int status = hold.run();
    report_file.write(report::take_into_json(report::SubscriberReport(hold.report())).dump(2) +
                      "\n");
    return status;
}

}  // namespace

int run_subscriber(const SubscriberOptions& o) {
    install_stop_signals();
    const OutputFile report_file(kSubscriberProgram, "the report file", o.output.report_file);
    const OutputFile csv_file(kSubscriberProgram, "the CSV file", o.csv_file);
    const OutputFile html_file(kSubscriberProgram, "the HTML file", o.html_file);
    for (const OutputFile* file : {&report_file, &csv_file, &html_file})
        if (!file->prepare()) return kUsageError;

    warn_about_connection(kSubscriberProgram, o.connect);
    ProgressLine progress(kSubscriberProgram, !o.output.quiet);
    std::optional<SubscriberState> state;
    SubscriberOptions options = o;
    const bool usable = state_usable(kSubscriberProgram, [&] {
        if (o.state_dir.empty()) return;
        state.emplace(o.state_dir, o.client_id_given ? o.connect.client_id : "");
        options.connect.client_id = state->client_id();
    });
    if (!usable) return kUsageError;
    if (options.connect_only) return run_hold(options, progress, report_file);
    if (options.runs_as_fleet()) return run_fleet(options, progress, report_file, html_file);
    net::EventLoop loop;  // the client's, and the metrics endpoint's
    const auto client = mqtt::make_client(options.engine, loop);
    SubscriberRun run(options, *client, progress, stop_requested);
    MetricsOutput metrics(kSubscriberProgram, o.output);
    if (!metrics.start(
            loop, progress, [&run](metrics::Exposition& out) { run.write_metrics(out); },
            [&run] { return run.ready(); }))
        return kUsageError;
    PrintSink printer(stdout);
    if (options.print) run.add_sink(printer);
    std::unique_ptr<store::ReadingStore> database;
    if (!o.store.empty()) {
        try {
            database = store::open_store(o.store);
        } catch (const store::StoreError& e) {
            print_error(kSubscriberProgram, e.what());
            return kUsageError;
        }
        run.add_sink(*database);
    }
    if (state && !state_usable(kSubscriberProgram, [&] { run.keep_state(*state); }))
        return kUsageError;
    const int status = run.run();
    report::SubscriberReport report = run.report();
    if (database) report.store = database->summary();
    csv_file.write(run.timeline_csv());
    if (html_file.wanted()) html_file.write(report::render_html(nullptr, &report));
    report_file.write(report::take_into_json(std::move(report)).dump(2) + "\n");
    return status;
}

}  // namespace app

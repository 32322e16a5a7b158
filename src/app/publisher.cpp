#include "app/publisher.hpp"

#include <fmt/format.h>
#include <sys/resource.h>

#include "app/exit_status.hpp"
#include "app/fleet_plan.hpp"
#include "app/metrics_output.hpp"
#include "app/output_file.hpp"
#include "app/publisher_run.hpp"
#include "app/publisher_state.hpp"
#include "app/signals.hpp"
#include "net/event_loop.hpp"

namespace app {
namespace {

// A fleet holds a socket per connection: raise the soft limit on open files (often 1024) as
// far as the hard limit allows; false, with one line, when even that is too low.
bool allow_open_files_for(const PublisherOptions& o, const char* program) {
    if (!o.fleet()) return true;
    const std::uint64_t needed = (o.per_device ? o.devices : o.connections) + 64;
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur >= needed) return true;
    if (files.rlim_max != RLIM_INFINITY && files.rlim_max < needed) {
        print_error(program, fmt::format("{} connections need about {} open files; this process "
                                         "may open at most {} (ulimit -Hn)",
                                         needed - 64, needed, files.rlim_max));
        return false;
    }
    files.rlim_cur = needed;
    return ::setrlimit(RLIMIT_NOFILE, &files) == 0;
}

// --connections auto: asks the broker on a probe connection, and says what it chose and why.
void choose_connections(PublisherOptions& o, ProgressLine& progress) {
    const AutoConnections chosen = auto_connections(o);
    o.connections = chosen.connections;
    if (chosen.window == 0) return;
    progress.info(fmt::format(
        "--connections auto: {} connection{} (a window of {} each, as the "
        "broker allows; {} messages in flight wanted)",
        chosen.connections, chosen.connections == 1 ? "" : "s", chosen.window, kAutoWindow));
}

}  // namespace

int run_publisher(const PublisherOptions& o) {
    install_stop_signals();
    const OutputFile report_file(kPublisherProgram, "the report file", o.output.report_file);
    const OutputFile csv_file(kPublisherProgram, "the CSV file", o.csv_file);
    if (!report_file.prepare() || !csv_file.prepare()) return kUsageError;

    if (!allow_open_files_for(o, kPublisherProgram)) return kUsageError;
    warn_about_connection(kPublisherProgram, o.connect);
    ProgressLine progress(kPublisherProgram, !o.output.quiet);
    PublisherOptions options = o;
    std::optional<PublisherState> state;
    const bool usable = state_usable(kPublisherProgram, [&] {
        if (o.state_dir.empty()) return;
        state.emplace(o.state_dir, nlohmann::json{{"count", o.count},
                                                  {"devices", o.devices},
                                                  {"device_prefix", o.device_prefix},
                                                  {"topic", o.topic},
                                                  {"qos", o.qos},
                                                  {"seed", o.seed},
                                                  {"shard", {o.shard, o.shards}}});
        if (state->resuming() && !o.run_id.empty() && o.run_id != state->run_id())
            throw state::StateError("--run-id " + o.run_id + " is not the run " + state->run_id() +
                                    " saved in " + o.state_dir);
        if (state->resuming()) options.run_id = state->run_id();
    });
    if (!usable) return kUsageError;
    net::EventLoop loop;  // the client's, and the metrics endpoint's
    if (o.connections_auto) choose_connections(options, progress);
    RunPlan plan = plan_run(options);
    const auto client = make_publisher_client(options, plan, options.connect, loop);
    PublisherRun run(options, std::move(plan), *client, progress, stop_requested);
    MetricsOutput metrics(kPublisherProgram, o.output);
    if (!metrics.start(loop, progress,
                       [&run](metrics::Exposition& out) { run.write_metrics(out); }))
        return kUsageError;
    if (state && !state_usable(kPublisherProgram, [&] { run.keep_state(*state); }))
        return kUsageError;
    const int status = run.run();
    report_file.write(report::take_into_json(run.report()).dump(2) + "\n");
    csv_file.write(run.timeline_csv());
    return status;
}

}  // namespace app

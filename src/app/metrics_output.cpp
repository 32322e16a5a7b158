#include "app/metrics_output.hpp"

#include <system_error>

#include "metrics/process.hpp"

namespace app {

MetricsOutput::MetricsOutput(std::string program, const OutputOptions& options)
    : program_(std::move(program)), options_(options) {}

bool MetricsOutput::start(net::EventLoop& loop, ProgressLine& progress, Write write,
                          metrics::HttpEndpoint::Ready ready) {
    if (!options_.metrics) return true;
    try {
        endpoint_ = std::make_unique<metrics::HttpEndpoint>(loop, *options_.metrics,
                                                            [write = std::move(write)] {
                                                                metrics::Exposition out;
                                                                write(out);
                                                                metrics::write_process_metrics(out);
                                                                return out.text();
                                                            });
    } catch (const std::system_error& e) {
        print_error(program_, std::string("--metrics-port: ") + e.what());
        return false;
    }
    endpoint_->on_ready_probe(std::move(ready));
    progress.info("metrics at " + endpoint_->url());
    return true;
}

}  // namespace app

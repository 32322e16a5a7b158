#pragma once
// --metrics-port: the /metrics endpoint on the program's event loop, live for the whole run.

#include <functional>
#include <memory>
#include <string>

#include "app/cli_common.hpp"
#include "app/console.hpp"
#include "metrics/exposition.hpp"
#include "metrics/http_endpoint.hpp"

namespace app {

class MetricsOutput {
  public:
    using Write = std::function<void(metrics::Exposition&)>;  // the run's own metrics

    MetricsOutput(std::string program, const OutputOptions& options);
    // Starts listening (if --metrics-port was given) and says where; /readyz answers 200 while
    // `ready` says so. False, after one error line, when the address cannot be used.
    bool start(net::EventLoop& loop, ProgressLine& progress, Write write,
               metrics::HttpEndpoint::Ready ready = {});

  private:
    std::string program_;
    const OutputOptions& options_;
    std::unique_ptr<metrics::HttpEndpoint> endpoint_;
};

}  // namespace app

#include "app/print_sink.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace app {

void PrintSink::accept(const telemetry::Delivery& d) {
    if (!d.decoded.reading) return;
    line_.clear();
    line_ += R"({"topic":)";
    // A topic may hold any UTF-8; invalid bytes are replaced rather than thrown over.
    line_ += nlohmann::json(std::string(d.topic))
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    fmt::format_to(std::back_inserter(line_), R"(,"received_us":{},"reading":)",
                   d.arrived_epoch_us);
    line_ += d.payload;
    line_ += "}\n";
    std::fwrite(line_.data(), 1, line_.size(), out_);
    if (d.arrived - flushed_ >= std::chrono::milliseconds(100)) {
        std::fflush(out_);
        flushed_ = d.arrived;
    }
}

}  // namespace app

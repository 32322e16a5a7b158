#include "app/print_sink.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <openssl/evp.h>

namespace app {
namespace {

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// A binary envelope as the JSON reading it carries (schema v1's keys, values only when its
// body is a packed reading), and an opaque body in base64.
void append_envelope(std::string& line, const telemetry::Delivery& d) {
    const telemetry::Reading& r = *d.decoded.reading;
    nlohmann::ordered_json reading{
        {"run", r.run}, {"dev", r.device}, {"seq", r.seq}, {"ts", r.ts_us}};
    if (d.decoded.has_values) {
        reading["temp"] = r.temperature_c;
        reading["hum"] = r.humidity_pct;
        reading["pres"] = r.pressure_hpa;
        reading["batt"] = r.battery_pct;
        if (r.fault != telemetry::SensorFault::None) reading["fault"] = fault_name(r.fault);
        if (r.battery_low) reading["batt_low"] = true;
    }
    line += reading.dump();
    if (!d.decoded.has_values) line += R"(,"body_base64":")" + base64(d.decoded.body) + '"';
}

}  // namespace

void PrintSink::accept(const telemetry::Delivery& d) {
    if (!d.decoded.reading) return;
    line_.clear();
    line_ += R"({"topic":)";
    // A topic may hold any UTF-8; invalid bytes are replaced rather than thrown over.
    line_ += nlohmann::json(std::string(d.topic))
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    fmt::format_to(std::back_inserter(line_), R"(,"received_us":{},"reading":)",
                   d.arrived_epoch_us);
    if (!d.decoded.json)
        append_envelope(line_, d);
    else
        line_ += d.payload;
    line_ += "}\n";
    std::fwrite(line_.data(), 1, line_.size(), out_);
    if (d.arrived - flushed_ >= std::chrono::milliseconds(100)) {
        std::fflush(out_);
        flushed_ = d.arrived;
    }
}

}  // namespace app

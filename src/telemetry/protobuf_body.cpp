// The reading as protocol buffers, with the classes protoc generates from reading.proto.
#include <cmath>

#include <google/protobuf/stubs/logging.h>

#include "telemetry/reading.pb.h"
#include "telemetry/structured_body.hpp"

namespace telemetry {

void append_protobuf_body(const Reading& r, std::string_view pad, std::string& out) {
    // One message per thread, reused: its strings keep their capacity between readings.
    thread_local mqtt_telemetry::v1::Reading m;
    m.set_dev(r.device);
    m.set_seq(r.seq);
    m.set_ts(r.ts_us);
    m.set_temp(rounded_to_hundredths(r.temperature_c));
    m.set_hum(rounded_to_hundredths(r.humidity_pct));
    m.set_pres(rounded_to_hundredths(r.pressure_hpa));
    m.set_batt(rounded_to_hundredths(r.battery_pct));
    m.set_fault(static_cast<mqtt_telemetry::v1::Reading_Fault>(r.fault));
    m.set_batt_low(r.battery_low);
    m.set_pad(pad.data(), pad.size());
    m.AppendToString(&out);
}

std::optional<std::string> decode_protobuf_body(std::string_view body, Reading& into) {
    // libprotobuf logs a line to stderr for some malformed input (a string that is not UTF-8);
    // the subscriber reports every malformed message itself, in one place.
    static const bool quiet = (google::protobuf::SetLogHandler(nullptr), true);
    (void)quiet;
    thread_local mqtt_telemetry::v1::Reading m;
    if (!m.ParseFromArray(body.data(), static_cast<int>(body.size())))
        return std::string("not a protobuf Reading (reading.proto)");
    if (!is_plain_identifier(m.dev()))
        return std::string(R"("dev" must be an identifier of 1-64 characters [A-Za-z0-9._-])");
    if (!mqtt_telemetry::v1::Reading_Fault_IsValid(m.fault()))
        return std::string(R"("fault" must be NONE, STUCK, SPIKE or DROPOUT)");
    into.device = m.dev();
    into.seq = m.seq();
    into.ts_us = m.ts();
    into.temperature_c = m.temp();
    into.humidity_pct = m.hum();
    into.pressure_hpa = m.pres();
    into.battery_pct = m.batt();
    into.fault = static_cast<SensorFault>(m.fault());
    into.battery_low = m.batt_low();
    return std::nullopt;
}

}  // namespace telemetry

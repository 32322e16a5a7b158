#pragma once
// --print: every intact reading as one JSON line on stdout, as it arrives (duplicates too, as
// mosquitto_sub -v prints everything), for piping into jq:
//   {"topic":"sensors/sensor-0001/telemetry","received_us":1764102213125000,"reading":{...}}
// "reading" is a JSON payload exactly as received (a valid schema-1 object), or what a binary
// envelope carries under schema v1's keys (and its opaque body as "body_base64" beside it);
// malformed and corrupt messages are not printed (the verifier counts them). Lines go out at
// least every 100 ms.

#include <chrono>
#include <cstdio>
#include <string>

#include "telemetry/message_sink.hpp"

namespace app {

class PrintSink final : public telemetry::MessageSink {
  public:
    explicit PrintSink(std::FILE* out) : out_(out) {}
    ~PrintSink() override { std::fflush(out_); }
    PrintSink(const PrintSink&) = delete;  // flushes its stream once
    PrintSink& operator=(const PrintSink&) = delete;

    void accept(const telemetry::Delivery& delivery) override;

  private:
    std::FILE* out_;
    std::string line_;
    std::chrono::steady_clock::time_point flushed_{};
};

}  // namespace app

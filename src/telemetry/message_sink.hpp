#pragma once
// The seam between receiving and processing: the subscriber decodes every telemetry message
// once and hands it, in arrival order, to each sink in turn (the verifier first; later a store
// or an exporter).
//
// When the PUBACK leaves: the engine queues a message's PUBACK after the message handler (and
// so every sink) has returned, and writes the PUBACKs of one read batch after the whole batch
// is handled. A sink that has made a message durable when accept() returns therefore gets
// at-least-once delivery: if the process dies first, no PUBACK went out and the broker resends
// the message to the persistent session.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/payload.hpp"

namespace telemetry {

struct Delivery {
    std::string_view topic;  // views valid only during accept()
    std::string_view payload;
    std::chrono::steady_clock::time_point arrived;
    std::int64_t arrived_epoch_us;  // wall clock, for end-to-end latency against `ts`
    // The reading, or the problem (malformed or corrupt) and its reason.
    const DecodedReading& decoded;
};

class MessageSink {
  public:
    virtual ~MessageSink() = default;
    virtual void accept(const Delivery& delivery) = 0;
    // The read batch is complete; its PUBACKs are written when every sink has returned from
    // this. A durable sink commits here. Throwing ends the run with no PUBACK of the batch.
    virtual void batch_end() {}
    // Problems the sink found that fail the run's verdict (one line each), e.g. a store that
    // holds two different readings under one key.
    virtual std::vector<std::string> problems() const { return {}; }
};

}  // namespace telemetry

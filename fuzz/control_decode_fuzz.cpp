// libFuzzer target: the control-topic decoders (run summary, run progress, repair messages)
// must turn any bytes into a message or an error, never a crash or undefined behaviour; whatever
// decodes must encode and decode again to the same message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "telemetry/repair.hpp"
#include "telemetry/run_summary.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace telemetry;
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const DecodedRunSummary summary = decode_run_summary(in);
    if (summary.summary.has_value() == !summary.error.empty()) std::abort();
    if (summary.summary) {
        const DecodedRunSummary again = decode_run_summary(encode_run_summary(*summary.summary));
        if (!again.summary || !(*again.summary == *summary.summary)) std::abort();
    }
    if (const auto progress = decode_run_progress(in)) {
        const auto again = decode_run_progress(encode_run_progress(*progress));
        if (!again || !(*again == *progress)) std::abort();
    }
    std::string error;
    if (const auto repair = decode_repair(in, error)) {
        std::string error2;
        const auto again = decode_repair(encode_repair(*repair), error2);
        if (!again || !(*again == *repair)) std::abort();
    } else if (error.empty()) {
        std::abort();  // a refusal always says why
    }
    return 0;
}

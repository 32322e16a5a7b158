#pragma once
// --payload-format template: a body written from a template per message, in the spirit of
// emqtt-bench's template:// and MQTTX's scenarios, but deterministic: the random fields follow
// from the seed, run, device and sequence number, so a redelivery repeats them.
//
//   ${run} ${device} ${seq} ${ts} (µs since the epoch) ${ts_ms}    the reading's ids and time
//   ${temp} ${hum} ${pres} ${batt}                                 its values, two decimals
//   ${rand_int} ${rand_int:A:B} ${rand_float} ${rand_float:A:B}    random numbers (float: 4
//                                                                  decimals; int: A to B)
//   ${rand_hex:N}                                                  N random hex digits (1-4096)
//   $${                                                            a literal ${
// ${...} rather than {...}: JSON, the usual template, is full of braces.
// Pure logic: no I/O (the app reads a template file).

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "telemetry/payload.hpp"

namespace telemetry {

class PayloadTemplate {
  public:
    // The template, or one line naming its first problem (an unknown field, a bad range).
    static std::variant<PayloadTemplate, std::string> compile(std::string_view text);

    // Appends the body for `r`; `stream` seeds the random fields.
    void render(const Reading& r, std::uint64_t stream, std::string& out) const;

  private:
    enum class Field : std::uint8_t {
        Text,
        Run,
        Device,
        Seq,
        Ts,
        TsMs,
        Temp,
        Hum,
        Pres,
        Batt,
        RandInt,
        RandFloat,
        RandHex
    };
    struct Part {
        Field field{Field::Text};
        std::string text;  // Field::Text
        double low{0}, high{0};
        std::size_t digits{0};
    };
    static std::variant<Part, std::string> parse_field(std::string_view name);
    std::vector<Part> parts_;
};

}  // namespace telemetry

// libFuzzer target: the MQTT codec must turn any bytes into a packet, "need more" or a clear
// error, never a crash or undefined behaviour; whatever decodes must encode and decode again
// to the same packet.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mqtt/protocol/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mqtt::protocol;
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    for (Version v : {Version::V311, Version::V5}) {
        const DecodeResult d = decode(in, v);
        if (d.status != DecodeStatus::Ok) continue;
        if (d.consumed == 0 || d.consumed > size) std::abort();
        std::string again;
        encode(d.packet, v, again);
        const DecodeResult d2 = decode(again, v);
        if (d2.status != DecodeStatus::Ok || d2.consumed != again.size()) std::abort();
        if (!(d2.packet == d.packet)) std::abort();  // every field, not only the type
    }
    return 0;
}

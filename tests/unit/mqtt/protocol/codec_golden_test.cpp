// Every MQTT control packet pinned to fixed bytes, both ways: the encoder writes exactly these
// bytes and the decoder reads them back to the same value. The bytes are those of the
// specifications' examples (MQTT 3.1.1 Figure 3.6 and MQTT 5.0 Figure 3-6, the CONNECT variable
// headers) and of Mosquitto's own test suite (test/mosq_test.py: gen_connack, gen_publish,
// gen_puback ... gen_disconnect), with the same arguments.

#include <gtest/gtest.h>

#include "mqtt/protocol/codec.hpp"

namespace mqtt::protocol {
namespace {

std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values) out.push_back(static_cast<char>(v));
    return out;
}

struct Golden {
    const char* name;
    Version version;
    Packet packet;
    std::string wire;
    bool canonical{true};  // false: a valid form our encoder does not choose; decode only
};
// The case's name where GoogleTest would print the parameter's bytes (ctest's test names).
void PrintTo(const Golden& c, std::ostream* os) {
    *os << c.name;
}

Connect spec_connect(Version v) {
    // Flags 0xCE: user name, password, will QoS 1, will flag, clean start; keepalive 10.
    Connect c;
    c.version = v;
    c.client_id = "dev";
    c.clean_start = true;
    c.keepalive_s = 10;
    c.username = "u";
    c.password = "p";
    c.will = Will{"w", "x", 1, false, {}};
    if (v == Version::V5) c.properties.add(PropertyId::SessionExpiryInterval, 10u);
    return c;
}

Publish publish(std::uint8_t qos, std::uint16_t id, bool dup = false, bool retain = false) {
    Publish p;
    p.topic = "a/b";
    p.payload = "hi";
    p.qos = qos;
    p.packet_id = id;
    p.dup = dup;
    p.retain = retain;
    return p;
}

std::vector<Golden> cases() {
    const auto V3 = Version::V311;
    const auto V5 = Version::V5;
    return {
        // MQTT 3.1.1 Figure 3.6: 00 04 'MQTT' 04 CE 00 0A, then the payload in 3.1.3 order.
        {"Connect311SpecExample", V3, spec_connect(V3),
         bytes({0x10, 0x1B, 0x00, 0x04, 'M',  'Q', 'T',  'T',  0x04, 0xCE,
                0x00, 0x0A, 0x00, 0x03, 'd',  'e', 'v',  0x00, 0x01, 'w',
                0x00, 0x01, 'x',  0x00, 0x01, 'u', 0x00, 0x01, 'p'})},
        // MQTT 5.0 Figure 3-6: ... 05 CE 00 0A, properties 05 11 00 00 00 0A (session expiry 10).
        {"Connect5SpecExample", V5, spec_connect(V5),
         bytes({0x10, 0x22, 0x00, 0x04, 'M',  'Q',  'T',  'T',  0x05, 0xCE, 0x00, 0x0A,
                0x05, 0x11, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x03, 'd',  'e',  'v',  0x00,
                0x00, 0x01, 'w',  0x00, 0x01, 'x',  0x00, 0x01, 'u',  0x00, 0x01, 'p'})},
        // gen_connack(flags=1, rc=0): session present.
        {"Connack311SessionPresent", V3, Connack{true, 0x00, {}}, bytes({0x20, 0x02, 0x01, 0x00})},
        // gen_connack(rc=5) under 3.1.1 is "not authorised", 0x87 in the reason code vocabulary.
        {"Connack311NotAuthorised", V3, Connack{false, 0x87, {}}, bytes({0x20, 0x02, 0x00, 0x05})},
        // gen_connack(rc=0x87, proto_ver=5): an empty property list is one zero byte.
        {"Connack5NotAuthorised", V5, Connack{false, 0x87, {}},
         bytes({0x20, 0x03, 0x00, 0x87, 0x00})},
        // gen_publish("a/b", qos=1, mid=1, payload="hi").
        {"Publish311Qos1", V3, publish(1, 1),
         bytes({0x32, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, 'h', 'i'})},
        {"Publish5Qos1", V5, publish(1, 1),
         bytes({0x32, 0x0A, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, 0x00, 'h', 'i'})},
        {"Publish311Qos0Retained", V3, publish(0, 0, false, true),
         bytes({0x31, 0x07, 0x00, 0x03, 'a', '/', 'b', 'h', 'i'})},
        {"Publish311Qos2Dup", V3, publish(2, 7, true),
         bytes({0x3C, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x07, 'h', 'i'})},
        // gen_puback(1), gen_pubrec(2), gen_pubrel(2), gen_pubcomp(2).
        {"Puback311", V3, Ack{PacketType::Puback, 1, 0, {}}, bytes({0x40, 0x02, 0x00, 0x01})},
        {"Pubrec311", V3, Ack{PacketType::Pubrec, 2, 0, {}}, bytes({0x50, 0x02, 0x00, 0x02})},
        {"Pubrel311", V3, Ack{PacketType::Pubrel, 2, 0, {}}, bytes({0x62, 0x02, 0x00, 0x02})},
        {"Pubcomp311", V3, Ack{PacketType::Pubcomp, 2, 0, {}}, bytes({0x70, 0x02, 0x00, 0x02})},
        // gen_puback(1, proto_ver=5, reason_code=0x10): no matching subscribers.
        {"Puback5NoMatchingSubscribers", V5, Ack{PacketType::Puback, 1, 0x10, {}},
         bytes({0x40, 0x03, 0x00, 0x01, 0x10})},
        // gen_puback(1, proto_ver=5, reason_code=0x87): refused, not authorised.
        {"Puback5NotAuthorised", V5, Ack{PacketType::Puback, 1, 0x87, {}},
         bytes({0x40, 0x03, 0x00, 0x01, 0x87})},
        // MQTT 5 lets a success without properties leave out the reason (3.4.2.1).
        {"Puback5Success", V5, Ack{PacketType::Puback, 1, 0, {}}, bytes({0x40, 0x02, 0x00, 0x01})},
        // gen_subscribe(1, "a/#", 1).
        {"Subscribe311", V3, Subscribe{1, {{"a/#", 1}}, {}},
         bytes({0x82, 0x08, 0x00, 0x01, 0x00, 0x03, 'a', '/', '#', 0x01})},
        {"Subscribe5", V5, Subscribe{1, {{"a/#", 1}}, {}},
         bytes({0x82, 0x09, 0x00, 0x01, 0x00, 0x00, 0x03, 'a', '/', '#', 0x01})},
        // gen_suback(1, 1); 0x80 is the only 3.1.1 failure.
        {"Suback311", V3, Suback{PacketType::Suback, 1, {0x01}, {}},
         bytes({0x90, 0x03, 0x00, 0x01, 0x01})},
        {"Suback311Failure", V3, Suback{PacketType::Suback, 1, {0x80}, {}},
         bytes({0x90, 0x03, 0x00, 0x01, 0x80})},
        {"Suback5NotAuthorised", V5, Suback{PacketType::Suback, 1, {0x87}, {}},
         bytes({0x90, 0x04, 0x00, 0x01, 0x00, 0x87})},
        // gen_unsubscribe(1, "a/#"), gen_unsuback(1).
        {"Unsubscribe311", V3, Unsubscribe{1, {"a/#"}, {}},
         bytes({0xA2, 0x07, 0x00, 0x01, 0x00, 0x03, 'a', '/', '#'})},
        {"Unsubscribe5", V5, Unsubscribe{1, {"a/#"}, {}},
         bytes({0xA2, 0x08, 0x00, 0x01, 0x00, 0x00, 0x03, 'a', '/', '#'})},
        {"Unsuback311", V3, Suback{PacketType::Unsuback, 1, {}, {}},
         bytes({0xB0, 0x02, 0x00, 0x01})},
        {"Unsuback5", V5, Suback{PacketType::Unsuback, 1, {0x00}, {}},
         bytes({0xB0, 0x04, 0x00, 0x01, 0x00, 0x00})},
        // gen_pingreq(), gen_pingresp(), gen_disconnect().
        {"Pingreq", V3, Pingreq{}, bytes({0xC0, 0x00})},
        {"Pingresp", V5, Pingresp{}, bytes({0xD0, 0x00})},
        {"Disconnect311", V3, Disconnect{}, bytes({0xE0, 0x00})},
        {"Disconnect5Normal", V5, Disconnect{}, bytes({0xE0, 0x00})},
        {"Disconnect5SessionTakenOver", V5, Disconnect{0x8E, {}}, bytes({0xE0, 0x02, 0x8E, 0x00})},
        // gen_disconnect(reason_code=0x8E, proto_ver=5) leaves out the property length, which
        // 3.14.2.2.1 allows: we decode it, and write the longer form above.
        {"Disconnect5ShortFormFromMosquitto", V5, Disconnect{0x8E, {}}, bytes({0xE0, 0x01, 0x8E}),
         false},
    };
}

std::vector<Golden> canonical_cases() {
    std::vector<Golden> all = cases(), canonical;
    for (Golden& g : all)
        if (g.canonical) canonical.push_back(std::move(g));
    return canonical;
}

class GoldenBytes : public testing::TestWithParam<Golden> {};
using GoldenEncoding = GoldenBytes;

TEST_P(GoldenEncoding, EncodeWritesExactlyTheseBytes) {
    const Golden& g = GetParam();
    std::string out;
    encode(g.packet, g.version, out);
    EXPECT_EQ(out, g.wire);
}

TEST_P(GoldenBytes, DecodeReadsTheSameValue) {
    const Golden& g = GetParam();
    const DecodeResult d = decode(g.wire, g.version);
    ASSERT_EQ(d.status, DecodeStatus::Ok) << d.error;
    EXPECT_EQ(d.consumed, g.wire.size());
    EXPECT_TRUE(d.packet == g.packet);
}

const auto kName = [](const testing::TestParamInfo<Golden>& c) { return c.param.name; };
INSTANTIATE_TEST_SUITE_P(SpecAndMosquitto, GoldenBytes, testing::ValuesIn(cases()), kName);
INSTANTIATE_TEST_SUITE_P(SpecAndMosquitto, GoldenEncoding, testing::ValuesIn(canonical_cases()),
                         kName);

}  // namespace
}  // namespace mqtt::protocol

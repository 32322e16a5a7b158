// The MQTT codec against the specification: round trips for every packet in both versions,
// and a table of malformed packets, each named after the rule it breaks, that must decode to
// a clear error (never a crash: this runs under ASan and UBSan).

#include <gtest/gtest.h>

#include <deque>

#include "mqtt/protocol/codec.hpp"

namespace mqtt::protocol {
namespace {

using namespace std::string_literals;

Packet round_trip(const Packet& p, Version v) {
    // Decoded PUBLISH topic and payload view the bytes: keep them alive for the comparison.
    static std::deque<std::string> kept;
    std::string& bytes = kept.emplace_back();
    encode(p, v, bytes);
    const DecodeResult d = decode(bytes, v);
    EXPECT_EQ(d.status, DecodeStatus::Ok) << d.error;
    EXPECT_EQ(d.consumed, bytes.size());
    return d.packet;
}

class CodecRoundTrip : public testing::TestWithParam<Version> {};

TEST_P(CodecRoundTrip, EveryPacketTypeSurvives) {
    const Version v = GetParam();
    Connect connect;
    connect.version = v;
    connect.client_id = "sensor-gw-1";
    connect.clean_start = false;
    connect.keepalive_s = 45;
    connect.username = "user";
    connect.password = "pw";
    connect.will = Will{"status/gw", "offline", 1, true, {}};
    if (v == Version::V5) connect.properties.add(PropertyId::SessionExpiryInterval, 3600u);
    Connack connack{true, 0, {}};
    if (v == Version::V5)
        connack.properties.add(PropertyId::ReceiveMaximum, 20u)
            .add(PropertyId::ReasonString, "ok"s);
    const std::string topic = "sensors/a/telemetry", payload = "{\"x\":1}";
    Publish publish{topic, payload, 2, true, true, 7, {}};
    Subscribe subscribe{9, {{"sensors/+/telemetry", 1}, {"control/#", 2}}, {}};
    const std::vector<Packet> packets{
        connect,
        connack,
        publish,
        Publish{topic, payload, 0, false, false, 0, {}},
        Ack{PacketType::Puback, 1, 0, {}},
        Ack{PacketType::Pubrec, 65535, 0, {}},
        Ack{PacketType::Pubrel, 2, 0, {}},
        Ack{PacketType::Pubcomp, 3, 0, {}},
        subscribe,
        Suback{PacketType::Suback, 9, {1, 0x80}, {}},
        Unsubscribe{10, {"a/b", "c/#"}, {}},
        Suback{PacketType::Unsuback,
               10,
               v == Version::V5 ? std::vector<std::uint8_t>{0, 0x11} : std::vector<std::uint8_t>{},
               {}},
        Pingreq{},
        Pingresp{},
        Disconnect{},
    };
    for (const Packet& p : packets) EXPECT_EQ(round_trip(p, v), p) << "packet index " << p.index();
}

INSTANTIATE_TEST_SUITE_P(BothVersions, CodecRoundTrip, testing::Values(Version::V311, Version::V5),
                         [](const testing::TestParamInfo<Version>& p) {
                             return p.param == Version::V5 ? "V5" : "V311";
                         });

TEST(Codec, Mqtt5ReasonCodesAndPropertiesOnAcks) {
    Ack ack{PacketType::Puback, 5, static_cast<std::uint8_t>(ReasonCode::QuotaExceeded), {}};
    ack.properties.add(PropertyId::ReasonString, "queue full"s);
    EXPECT_EQ(round_trip(ack, Version::V5), Packet(ack));
    const Ack no_match{
        PacketType::Puback, 6, static_cast<std::uint8_t>(ReasonCode::NoMatchingSubscribers), {}};
    EXPECT_EQ(round_trip(no_match, Version::V5), Packet(no_match));
    EXPECT_FALSE(is_failure(no_match.reason));
    EXPECT_TRUE(is_failure(ack.reason));
}

TEST(Codec, PropertiesAreFoundByIdentifier) {
    Connack c;
    c.properties.add(PropertyId::ReceiveMaximum, 20u).add(PropertyId::ReasonString, "quota"s);
    const auto decoded = std::get<Connack>(round_trip(c, Version::V5));
    EXPECT_EQ(decoded.properties.number(PropertyId::ReceiveMaximum), 20u);
    EXPECT_EQ(decoded.properties.text(PropertyId::ReasonString), "quota");
    EXPECT_FALSE(decoded.properties.number(PropertyId::TopicAliasMaximum));
}

TEST(Codec, PublishEncodesTheWireFormatExactly) {
    std::string out;
    encode_publish("a/b", "hi", 1, false, false, 0x0102, Version::V311, out);
    EXPECT_EQ(out, "\x32\x09\x00\x03"s + "a/b" + "\x01\x02"s + "hi");
    out.clear();
    encode_publish("a/b", "hi", 1, false, false, 0x0102, Version::V5, out);
    EXPECT_EQ(out, "\x32\x0A\x00\x03"s + "a/b" + "\x01\x02\x00"s + "hi");
}

TEST(Codec, APublishCarriesUserPropertiesInTheirOrderAndOnlyOverMqtt5) {
    std::string properties;
    append_user_property(properties, "mt-seq", "42");
    append_user_property(properties, "mt-seq", "second of the same name");
    std::string out;
    encode_publish("a/b", "hi", 1, false, false, 7, Version::V5, out, properties);
    const DecodeResult d = decode(out, Version::V5);
    ASSERT_EQ(d.status, DecodeStatus::Ok) << d.error;
    const auto& p = std::get<Publish>(d.packet);
    EXPECT_EQ(p.payload, "hi");
    ASSERT_EQ(p.properties.items.size(), 2u);
    EXPECT_EQ(p.properties.items[0].id, PropertyId::UserProperty);
    using Pair = std::pair<std::string, std::string>;
    EXPECT_EQ(std::get<Pair>(p.properties.items[0].value), Pair("mt-seq", "42"));
    EXPECT_EQ(std::get<Pair>(p.properties.items[1].value).second, "second of the same name");
    out.clear();
    encode_publish("a/b", "hi", 1, false, false, 7, Version::V311, out, properties);
    EXPECT_EQ(out, "\x32\x09\x00\x03"s + "a/b" + "\x00\x07"s + "hi") << "3.1.1 has none";
}

TEST(Codec, ARequestCarriesItsResponseTopicAndBinaryCorrelationData) {
    std::string properties;
    const std::string correlation(
        "\x00\xff"
        "7",
        3);
    append_string_property(properties, PropertyId::ResponseTopic, "replies/c1");
    append_string_property(properties, PropertyId::CorrelationData, correlation);
    std::string out;
    encode_publish("devices/1/cmd", "go", 1, false, false, 9, Version::V5, out, properties);
    const DecodeResult d = decode(out, Version::V5);
    ASSERT_EQ(d.status, DecodeStatus::Ok) << d.error;
    const auto& p = std::get<Publish>(d.packet);
    EXPECT_EQ(p.properties.text(PropertyId::ResponseTopic), "replies/c1");
    EXPECT_EQ(p.properties.text(PropertyId::CorrelationData), correlation);
    EXPECT_EQ(p.payload, "go");
}

TEST(Codec, RemainingLengthUsesUpToFourBytes) {
    const std::string payload(200'000, 'x');
    std::string out;
    encode_publish("t", payload, 0, false, false, 0, Version::V311, out);
    EXPECT_EQ(static_cast<std::uint8_t>(out[1]) & 0x80, 0x80);
    const DecodeResult d = decode(out, Version::V311);
    ASSERT_EQ(d.status, DecodeStatus::Ok) << d.error;
    EXPECT_EQ(std::get<Publish>(d.packet).payload.size(), payload.size());
}

TEST(Codec, PartialPacketsNeedMoreAtEveryCut) {
    std::string bytes;
    encode(Subscribe{3, {{"x/+", 1}}, {}}, Version::V5, bytes);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut)
        EXPECT_EQ(decode(std::string_view(bytes).substr(0, cut), Version::V5).status,
                  DecodeStatus::NeedMore)
            << cut;
}

TEST(Codec, Mqtt311ConnackReturnCodesBecomeReasonCodes) {
    // A 3.1.1 broker's "unacceptable protocol version" reaches an MQTT 5 client as 0x84.
    const DecodeResult d = decode("\x20\x02\x00\x01"s, Version::V5);
    ASSERT_EQ(d.status, DecodeStatus::Ok) << d.error;
    EXPECT_EQ(std::get<Connack>(d.packet).reason, 0x84);
    EXPECT_EQ(std::get<Connack>(decode("\x20\x02\x00\x05"s, Version::V311).packet).reason, 0x87);
    EXPECT_EQ(std::get<Connack>(decode("\x20\x02\x00\x04"s, Version::V311).packet).reason, 0x86);
}

TEST(Codec, Mqtt311ConnackRefusalsEncodeBackToTheirReturnCodes) {
    // Found by fuzz/mqtt_decode_fuzz: 3.1.1 return code 2 decoded to 0x85 but encoded as 0x85.
    for (std::uint8_t code = 0; code <= 5; ++code) {
        const std::string wire = "\x20\x02\x00"s + static_cast<char>(code);
        const DecodeResult d = decode(wire, Version::V311);
        ASSERT_EQ(d.status, DecodeStatus::Ok) << d.error;
        std::string again;
        encode(d.packet, Version::V311, again);
        EXPECT_EQ(again, wire) << int{code};
    }
}

struct MalformedPacket {
    const char* rule;
    std::string bytes;
    Version version;
    const char* mentions;
};
void PrintTo(const MalformedPacket& m, std::ostream* os) {
    *os << m.rule;
}

class CodecMalformed : public testing::TestWithParam<MalformedPacket> {};

TEST_P(CodecMalformed, IsAClearProtocolError) {
    const DecodeResult d = decode(GetParam().bytes, GetParam().version);
    EXPECT_EQ(d.status, DecodeStatus::Malformed);
    EXPECT_NE(d.error.find(GetParam().mentions), std::string::npos) << d.error;
}

INSTANTIATE_TEST_SUITE_P(
    Spec, CodecMalformed,
    testing::Values(
        MalformedPacket{"MQTT_1_5_5_remaining_length_five_bytes", "\x30\xFF\xFF\xFF\xFF\x01"s,
                        Version::V311, "4 bytes"},
        // Both found by the fuzzer once it compared whole packets after a round trip.
        MalformedPacket{"MQTT_1_5_5_1_remaining_length_not_minimal",
                        "\xB0\x86\x00\xFF\xFF\xFF\xFF\xFF\xFF"s, Version::V311, "fewest bytes"},
        MalformedPacket{"MQTT311_3_11_1_unsuback_with_payload", "\xB0\x03\x00\x01\x00"s,
                        Version::V311, "UNSUBACK with a payload"},
        MalformedPacket{"MQTT_3_3_1_4_publish_qos_3", "\x36\x05\x00\x01t\x00\x01"s, Version::V311,
                        "QoS 3"},
        MalformedPacket{"MQTT_3_3_1_2_dup_on_qos_0", "\x38\x03\x00\x01t"s, Version::V311, "DUP"},
        MalformedPacket{"MQTT_3_3_2_2_wildcard_in_topic", "\x30\x03\x00\x01#"s, Version::V311,
                        "wildcard"},
        MalformedPacket{"MQTT_2_2_1_3_packet_id_zero", "\x32\x05\x00\x01t\x00\x00"s, Version::V311,
                        "identifier 0"},
        MalformedPacket{"MQTT_2_1_3_1_puback_reserved_flags", "\x41\x02\x00\x01"s, Version::V311,
                        "reserved flag"},
        MalformedPacket{"MQTT_3_6_1_1_pubrel_flags_zero", "\x60\x02\x00\x01"s, Version::V311,
                        "reserved flag"},
        MalformedPacket{"MQTT_3_8_1_1_subscribe_flags_zero", "\x80\x06\x00\x01\x00\x01x\x01"s,
                        Version::V311, "reserved flag"},
        MalformedPacket{"MQTT_3_2_2_1_connack_reserved_flags", "\x20\x02\x02\x00"s, Version::V311,
                        "reserved CONNACK"},
        MalformedPacket{"MQTT_2_1_2_reserved_type_0", "\x00\x00"s, Version::V311,
                        "reserved packet type"},
        MalformedPacket{"MQTT_3_8_3_4_subscribe_qos_3", "\x82\x06\x00\x01\x00\x01x\x03"s,
                        Version::V311, "QoS 3"},
        MalformedPacket{"MQTT_3_8_3_2_subscribe_without_filter", "\x82\x02\x00\x01"s, Version::V311,
                        "without a topic filter"},
        MalformedPacket{"MQTT_3_1_2_3_connect_reserved_flag",
                        "\x10\x0D\x00\x04MQTT\x04\x03\x00\x1E\x00\x01x"s, Version::V311,
                        "reserved CONNECT flag"},
        MalformedPacket{"MQTT_3_1_2_1_protocol_name",
                        "\x10\x0D\x00\x04MQTX\x04\x02\x00\x1E\x00\x01x"s, Version::V311,
                        "protocol name"},
        MalformedPacket{"MQTT_1_5_4_1_invalid_utf8_topic", "\x30\x04\x00\x02\xC3\x28"s,
                        Version::V311, "UTF-8"},
        MalformedPacket{"MQTT_1_5_4_2_nul_in_topic", "\x30\x04\x00\x02t\x00"s, Version::V311,
                        "UTF-8"},
        MalformedPacket{"string_longer_than_packet", "\x30\x04\x00\x09tt"s, Version::V311,
                        "truncated"},
        MalformedPacket{"trailing_bytes_in_puback", "\x40\x03\x00\x01\x00"s, Version::V311,
                        "unexpected bytes"},
        MalformedPacket{"pingresp_with_body", "\xD0\x01\x00"s, Version::V311, "unexpected bytes"},
        MalformedPacket{"MQTT_2_2_2_2_unknown_property", "\x30\x06\x00\x01t\x02\x7F\x00"s,
                        Version::V5, "unknown property"},
        MalformedPacket{"property_length_beyond_packet", "\x30\x05\x00\x01t\x09\x01"s, Version::V5,
                        "property length"},
        MalformedPacket{"auth_not_supported", "\xF0\x00"s, Version::V5, "AUTH"}),
    [](const testing::TestParamInfo<MalformedPacket>& p) { return std::string(p.param.rule); });

TEST(Codec, MaximumPacketSizeIsEnforcedBeforeReadingTheBody) {
    const DecodeResult d = decode("\x30\x90\x4E"s, Version::V5, 1000);  // announces 10,000 bytes
    EXPECT_EQ(d.status, DecodeStatus::Malformed);
}

TEST(Codec, ArbitraryBytesGiveAPacketNeedMoreOrANamedError) {
    // A cheap fuzz pass over a spread of 3-byte inputs (fuzz/mqtt_decode_fuzz goes further):
    // each is a whole packet within the input, a request for more, or an error naming the rule.
    std::string buf(3, '\0');
    std::size_t ok = 0, need_more = 0, malformed = 0;
    for (int a = 0; a < 256; a += 3)
        for (int b = 0; b < 256; b += 7)
            for (int c = 0; c < 256; c += 11) {
                buf[0] = static_cast<char>(a);
                buf[1] = static_cast<char>(b);
                buf[2] = static_cast<char>(c);
                for (Version v : {Version::V311, Version::V5}) {
                    const DecodeResult r = decode(buf, v);
                    switch (r.status) {
                        case DecodeStatus::Ok:
                            ++ok;
                            EXPECT_GE(r.consumed, 2u);
                            EXPECT_LE(r.consumed, buf.size());
                            break;
                        case DecodeStatus::NeedMore:
                            ++need_more;
                            EXPECT_EQ(r.consumed, 0u);
                            break;
                        case DecodeStatus::Malformed:
                            ++malformed;
                            EXPECT_FALSE(r.error.empty()) << a << ' ' << b << ' ' << c;
                            break;
                    }
                }
            }
    // The spread reaches all three outcomes (PINGRESP c0 00 is whole; a length of 100 needs more).
    EXPECT_GT(ok, 0u);
    EXPECT_GT(need_more, 0u);
    EXPECT_GT(malformed, 0u);
}

}  // namespace
}  // namespace mqtt::protocol

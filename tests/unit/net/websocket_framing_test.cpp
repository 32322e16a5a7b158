#include "net/websocket_framing.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using net::WebSocketFraming;

// A frame as a server sends it (unmasked unless asked), with the length in its shortest form
// unless `long_length`.
std::string server_frame(std::uint8_t opcode, const std::string& payload, bool fin = true,
                         std::uint8_t rsv = 0, bool masked = false, bool long_length = false) {
    std::string f;
    f += static_cast<char>((fin ? 0x80 : 0) | (rsv << 4) | opcode);
    const char mask_bit = masked ? static_cast<char>(0x80) : 0;
    if (payload.size() < 126 && !long_length) {
        f += static_cast<char>(mask_bit | static_cast<char>(payload.size()));
    } else if (payload.size() < 65536) {
        f += static_cast<char>(mask_bit | 126);
        f += static_cast<char>(payload.size() >> 8);
        f += static_cast<char>(payload.size() & 0xFF);
    } else {
        f += static_cast<char>(mask_bit | 127);
        for (int shift = 56; shift >= 0; shift -= 8)
            f += static_cast<char>((payload.size() >> shift) & 0xFF);
    }
    if (masked) f += std::string(4, '\0');  // a zero key leaves the payload as it is
    return f + payload;
}

struct ClientFrame {
    bool fin{false};
    std::uint8_t opcode{0};
    bool masked{false};
    std::string payload;  // unmasked
    std::size_t size{0};  // of the whole frame
};

// Reads the first frame a client sent.
ClientFrame parse_client_frame(const std::string& wire) {
    ClientFrame f;
    const auto byte = [&wire](std::size_t i) { return static_cast<unsigned char>(wire.at(i)); };
    f.fin = (byte(0) & 0x80) != 0;
    f.opcode = byte(0) & 0x0F;
    f.masked = (byte(1) & 0x80) != 0;
    std::uint64_t length = byte(1) & 0x7F;
    std::size_t at = 2;
    if (length == 126) {
        length = (byte(2) << 8) | byte(3);
        at = 4;
    } else if (length == 127) {
        length = 0;
        for (std::size_t i = 0; i < 8; ++i) length = (length << 8) | byte(2 + i);
        at = 10;
    }
    std::uint8_t key[4] = {};
    if (f.masked)
        for (std::size_t i = 0; i < 4; ++i) key[i] = byte(at++);
    for (std::uint64_t i = 0; i < length; ++i)
        f.payload += static_cast<char>(byte(at + i) ^ key[i % 4]);
    f.size = at + length;
    return f;
}

std::string pattern(std::size_t size) {
    std::string s(size, '\0');
    for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>(i * 7 + 3);
    return s;
}

TEST(WebSocketFraming, WrapsDataInOneMaskedBinaryFrameOfAnyLength) {
    for (const std::size_t size : {0u, 1u, 125u, 126u, 65535u, 65536u, 300000u}) {
        WebSocketFraming framing;
        std::string wire;
        framing.wrap(pattern(size), wire);
        const ClientFrame f = parse_client_frame(wire);
        EXPECT_TRUE(f.fin);
        EXPECT_EQ(f.opcode, 2);
        EXPECT_TRUE(f.masked) << "RFC 6455 5.3: a client masks every frame";
        EXPECT_EQ(f.size, wire.size()) << size;
        EXPECT_EQ(f.payload, pattern(size)) << size;
    }
}

TEST(WebSocketFraming, MasksWithAFreshKeyEachFrame) {
    WebSocketFraming framing;
    std::string a, b;
    framing.wrap(std::string(16, 'x'), a);
    framing.wrap(std::string(16, 'x'), b);
    EXPECT_NE(a, b);
}

TEST(WebSocketFraming, UnwrapsFramesSplitAnywhere) {
    const std::string data = pattern(70000);
    const std::string wire = server_frame(2, data.substr(0, 100)) +
                             server_frame(2, data.substr(100, 200)) +
                             server_frame(2, data.substr(300));
    for (const std::size_t step : {1u, 3u, 4096u, 100000u}) {
        WebSocketFraming framing;
        std::string got, reply;
        for (std::size_t at = 0; at < wire.size(); at += step) {
            const auto result = framing.unwrap(wire.substr(at, step), got, reply);
            ASSERT_TRUE(result.error.empty()) << result.error;
            ASSERT_FALSE(result.close);
        }
        EXPECT_EQ(got, data) << step;
        EXPECT_TRUE(reply.empty());
    }
}

TEST(WebSocketFraming, JoinsFragmentsAndAnswersAPingBetweenThem) {
    WebSocketFraming framing;
    std::string got, reply;
    const std::string wire = server_frame(2, "abc", false) + server_frame(9, "hello") +
                             server_frame(0, "def", false) + server_frame(10, "unasked pong") +
                             server_frame(0, "ghi", true);
    const auto result = framing.unwrap(wire, got, reply);
    EXPECT_TRUE(result.error.empty()) << result.error;
    EXPECT_EQ(got, "abcdefghi");
    const ClientFrame pong = parse_client_frame(reply);
    EXPECT_EQ(pong.opcode, 10);
    EXPECT_TRUE(pong.masked);
    EXPECT_EQ(pong.payload, "hello");
    EXPECT_EQ(pong.size, reply.size()) << "one pong, nothing for the server's pong";
}

TEST(WebSocketFraming, ReportsACloseAndAnswersItWithTheSameCode) {
    WebSocketFraming framing;
    std::string got, reply;
    const auto result = framing.unwrap(server_frame(2, "before") +
                                           server_frame(8, std::string("\x03\xE9", 2) + "restart") +
                                           server_frame(2, "after"),
                                       got, reply);
    ASSERT_TRUE(result.close);
    EXPECT_EQ(result.close->code, 1001);
    EXPECT_EQ(result.close->reason, "restart");
    EXPECT_EQ(got, "before") << "nothing after a close frame";
    const ClientFrame answer = parse_client_frame(reply);
    EXPECT_EQ(answer.opcode, 8);
    EXPECT_EQ(answer.payload, std::string("\x03\xE9", 2));
}

TEST(WebSocketFraming, ACloseWithoutACodeIsAnsweredWithNormalClosure) {
    WebSocketFraming framing;
    std::string got, reply;
    const auto result = framing.unwrap(server_frame(8, ""), got, reply);
    ASSERT_TRUE(result.close);
    EXPECT_EQ(result.close->code, WebSocketFraming::kNoStatus);
    EXPECT_EQ(parse_client_frame(reply).payload, std::string("\x03\xE8", 2));
}

struct Malformed {
    const char* rule;
    std::string wire;
    const char* says;
};

// RFC 6455 section 5 and [MQTT-6.0.0-1]: each broken frame is an error answered with 1002.
TEST(WebSocketFraming, BrokenFramesAreErrorsAnsweredWithProtocolError) {
    const Malformed cases[] = {
        {"5.1 a server must not mask", server_frame(2, "x", true, 0, true), "masked"},
        {"MQTT-6.0.0-1 binary only", server_frame(1, "text"), "text frame"},
        {"5.2 reserved bits", server_frame(2, "x", true, 4), "reserved bits"},
        {"5.2 reserved opcode", server_frame(3, "x"), "reserved opcode 3"},
        {"5.4 continuation first", server_frame(0, "x"), "no message to continue"},
        {"5.4 interleaved messages", server_frame(2, "a", false) + server_frame(2, "b"),
         "before the fragments"},
        {"5.5 control over 125", server_frame(9, std::string(126, 'p')), "malformed frame header"},
        {"5.5 fragmented control", server_frame(9, "p", false), "malformed frame header"},
        {"5.5.1 one-byte close code", server_frame(8, "\x03"), "1-byte code"},
        {"5.2 shortest length", server_frame(2, "short", true, 0, false, true),
         "malformed frame header"},
    };
    for (const Malformed& c : cases) {
        WebSocketFraming framing;
        std::string got, reply;
        const auto result = framing.unwrap(c.wire, got, reply);
        EXPECT_NE(result.error.find(c.says), std::string::npos) << c.rule << ": " << result.error;
        ASSERT_FALSE(reply.empty()) << c.rule;
        const ClientFrame answer = parse_client_frame(reply);
        EXPECT_EQ(answer.opcode, 8) << c.rule;
        EXPECT_EQ(answer.payload, std::string("\x03\xEA", 2)) << c.rule;
        // Nothing more is read after it.
        EXPECT_TRUE(framing.unwrap(server_frame(2, "late"), got, reply).error.empty());
        EXPECT_EQ(got.find("late"), std::string::npos) << c.rule;
    }
}

TEST(WebSocketFraming, CloseCodesAreNamedAndJudged) {
    EXPECT_EQ(WebSocketFraming::describe(1001), "1001 (going away)");
    EXPECT_EQ(WebSocketFraming::describe(1008), "1008 (policy violation)");
    EXPECT_EQ(WebSocketFraming::describe(4001), "4001 (application's own code)");
    for (const int code : {1000, 1001, 1005, 1011, 1012, 1013, 1014})
        EXPECT_TRUE(WebSocketFraming::transient(static_cast<std::uint16_t>(code))) << code;
    for (const int code : {1002, 1003, 1007, 1008, 1009, 1010, 4000})
        EXPECT_FALSE(WebSocketFraming::transient(static_cast<std::uint16_t>(code))) << code;
}

}  // namespace

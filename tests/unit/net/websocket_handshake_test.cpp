#include "net/websocket_handshake.hpp"

#include <string>

#include <gtest/gtest.h>

namespace {

using net::WebSocketHandshake;
using Status = WebSocketHandshake::Status;

// RFC 6455 section 1.3's own example key and answer.
constexpr const char* kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr const char* kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

WebSocketHandshake handshake(net::WebSocketOptions options = {}) {
    return WebSocketHandshake("broker.example", 8080, options, kKey);
}

std::string answer(const std::string& extra = "Sec-WebSocket-Protocol: mqtt\r\n",
                   const std::string& status = "101 Switching Protocols") {
    return "HTTP/1.1 " + status +
           "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + kAccept +
           "\r\n" + extra + "\r\n";
}

TEST(WebSocketHandshake, AcceptKeyIsTheRfcExample) {
    EXPECT_EQ(net::websocket_accept(kKey), kAccept);
}

TEST(WebSocketHandshake, NewKeysAreSixteenRandomBytesInBase64) {
    const std::string a = net::new_websocket_key();
    EXPECT_EQ(a.size(), 24u);
    EXPECT_EQ(a.substr(22), "==");
    EXPECT_NE(a, net::new_websocket_key());
}

TEST(WebSocketHandshake, RequestAsksForMqttAtThePathWithTheExtraHeaders) {
    net::WebSocketOptions options;
    options.path = "/ws?token=1";
    options.headers = {"Authorization: Bearer abc"};
    const std::string request = handshake(options).request();
    EXPECT_EQ(request.rfind("GET /ws?token=1 HTTP/1.1\r\n", 0), 0u) << request;
    for (const char* line :
         {"\r\nHost: broker.example:8080\r\n", "\r\nUpgrade: websocket\r\n",
          "\r\nConnection: Upgrade\r\n", "\r\nSec-WebSocket-Version: 13\r\n",
          "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
          "\r\nSec-WebSocket-Protocol: mqtt\r\n", "\r\nAuthorization: Bearer abc\r\n"})
        EXPECT_NE(request.find(line), std::string::npos) << line;
    EXPECT_EQ(request.substr(request.size() - 4), "\r\n\r\n");
}

TEST(WebSocketHandshake, HostHeaderBracketsAnIpv6Address) {
    const WebSocketHandshake h("::1", 80, {}, kKey);
    EXPECT_NE(h.request().find("\r\nHost: [::1]:80\r\n"), std::string::npos);
}

TEST(WebSocketHandshake, AcceptsTheRightAnswerAndLeavesWhatFollowsIt) {
    const std::string header = answer();
    const auto result = handshake().feed(header +
                                         "\x82\x02"
                                         "ab");
    EXPECT_EQ(result.status, Status::Accepted) << result.error;
    EXPECT_EQ(result.consumed, header.size());
}

TEST(WebSocketHandshake, WaitsForTheEndOfTheHeader) {
    const std::string header = answer();
    for (std::size_t n = 0; n < header.size(); ++n)
        EXPECT_EQ(handshake().feed(header.substr(0, n)).status, Status::Incomplete) << n;
}

TEST(WebSocketHandshake, HeaderNamesAndTokensIgnoreCase) {
    const std::string header = std::string("HTTP/1.1 101 Switching Protocols\r\n") +
                               "upgrade: WebSocket\r\nconnection: keep-alive, UPGRADE\r\n" +
                               "sec-websocket-accept: " + kAccept +
                               "\r\nsec-websocket-protocol: mqtt\r\n\r\n";
    EXPECT_EQ(handshake().feed(header).status, Status::Accepted);
}

struct Refusal {
    const char* name;
    std::string answer;
    const char* says;
    bool transient;
};

TEST(WebSocketHandshake, RefusalsNameThePathAndWhatWasWrong) {
    const std::string wrong_accept =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\nSec-WebSocket-Protocol: "
        "mqtt\r\n\r\n";
    const Refusal refusals[] = {
        {"not found", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "HTTP 404 Not Found",
         false},
        {"forbidden", "HTTP/1.1 403 Forbidden\r\n\r\n", "HTTP 403 Forbidden", false},
        {"unavailable", "HTTP/1.1 503 Service Unavailable\r\n\r\n", "HTTP 503", true},
        {"too many", "HTTP/1.1 429 Too Many Requests\r\n\r\n", "HTTP 429", true},
        {"no subprotocol", answer(""), "did not agree to the subprotocol 'mqtt'", false},
        {"other subprotocol", answer("Sec-WebSocket-Protocol: mqttv3.1\r\n"),
         "chose the subprotocol 'mqttv3.1'", false},
        {"wrong accept key", wrong_accept, "wrong Sec-WebSocket-Accept", false},
        {"extension", answer("Sec-WebSocket-Protocol: mqtt\r\nSec-WebSocket-Extensions: x\r\n"),
         "extensions we did not offer", false},
        {"no upgrade", "HTTP/1.1 101 Switching Protocols\r\n\r\n", "without 'Upgrade: websocket'",
         false},
        {"not http", "SSH-2.0-OpenSSH_9.2\r\n\r\n", "not HTTP", false},
    };
    for (const Refusal& r : refusals) {
        const auto result = handshake().feed(r.answer);
        EXPECT_EQ(result.status, Status::Refused) << r.name;
        EXPECT_NE(result.error.find("path /mqtt"), std::string::npos) << result.error;
        EXPECT_NE(result.error.find(r.says), std::string::npos) << r.name << ": " << result.error;
        EXPECT_EQ(result.transient, r.transient) << r.name;
    }
}

TEST(WebSocketHandshake, AnEndlessHeaderIsRefused) {
    const auto result = handshake().feed("HTTP/1.1 101 OK\r\n" + std::string(20000, 'x'));
    EXPECT_EQ(result.status, Status::Refused);
    EXPECT_NE(result.error.find("no end of the HTTP answer's header"), std::string::npos);
}

TEST(WebSocketHandshake, ExtraHeadersAreCheckedOnTheCommandLine) {
    EXPECT_EQ(net::check_websocket_header("Authorization: Bearer x"), "");
    EXPECT_EQ(net::check_websocket_header("X-Api-Key:abc"), "");
    EXPECT_NE(net::check_websocket_header("no colon"), "");
    EXPECT_NE(net::check_websocket_header(": value"), "");
    EXPECT_NE(net::check_websocket_header("Bad Name: x"), "");
    EXPECT_NE(net::check_websocket_header("X: a\r\nInjected: b"), "");
    EXPECT_NE(net::check_websocket_header("sec-websocket-protocol: other"), "");
    EXPECT_NE(net::check_websocket_header("Host: elsewhere"), "");
}

}  // namespace

#include "net/websocket_handshake.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <stdexcept>

namespace net {
namespace {

// RFC 6455 section 1.3.
constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
// An answer whose header runs past this is not a WebSocket server's.
constexpr std::size_t kMaxHeader = std::size_t{16} * 1024;

std::string base64(const unsigned char* data, std::size_t size) {
    std::string out(4 * ((size + 2) / 3), '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
    return out;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// Whether a comma-separated header value holds `token` (case-insensitive), as Connection and
// Upgrade may list several.
bool has_token(std::string_view value, std::string_view token) {
    while (!value.empty()) {
        const auto comma = value.find(',');
        if (equal_ignoring_case(trim(value.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return false;
}

// The value of header `name` in the header block (after the status line), if present.
std::optional<std::string_view> header_value(std::string_view headers, std::string_view name) {
    while (!headers.empty()) {
        const auto end = headers.find("\r\n");
        const std::string_view line = headers.substr(0, end);
        const auto colon = line.find(':');
        if (colon != std::string_view::npos &&
            equal_ignoring_case(trim(line.substr(0, colon)), name))
            return trim(line.substr(colon + 1));
        if (end == std::string_view::npos) break;
        headers.remove_prefix(end + 2);
    }
    return std::nullopt;
}

std::string host_header(std::string_view host, std::uint16_t port) {
    const bool v6 = host.find(':') != std::string_view::npos;
    return fmt::format("{}{}{}:{}", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

}  // namespace

std::string websocket_accept(std::string_view key) {
    const std::string text = std::string(key) + std::string(kGuid);
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha1(), nullptr) != 1)
        throw std::runtime_error("SHA-1 is not available from OpenSSL");
    return base64(digest.data(), length);
}

std::string new_websocket_key() {
    std::array<unsigned char, 16> nonce{};
    if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1)
        throw std::runtime_error("OpenSSL could not make random bytes for a WebSocket key");
    return base64(nonce.data(), nonce.size());
}

std::string check_websocket_header(std::string_view header) {
    const auto colon = header.find(':');
    if (colon == std::string_view::npos || trim(header.substr(0, colon)).empty())
        return "expected 'Name: value'";
    const std::string_view name = trim(header.substr(0, colon));
    if (name.find_first_of(" \t\"(),/:;<=>?@[\\]{}") != std::string_view::npos)
        return "the name '" + std::string(name) + "' is not an HTTP header name";
    if (header.find_first_of("\r\n") != std::string_view::npos) return "a header is one line";
    for (const std::string_view own : {"Host", "Upgrade", "Connection", "Sec-WebSocket-Key",
                                       "Sec-WebSocket-Version", "Sec-WebSocket-Protocol"})
        if (equal_ignoring_case(name, own))
            return "the handshake sets " + std::string(own) + " itself";
    return {};
}

WebSocketHandshake::WebSocketHandshake(std::string_view host, std::uint16_t port,
                                       const WebSocketOptions& options, std::string key)
    : path_(options.path), key_(std::move(key)) {
    request_ = fmt::format(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {}\r\n",
        path_, host_header(host, port), key_, kMqttSubprotocol);
    for (const std::string& header : options.headers) request_ += header + "\r\n";
    request_ += "\r\n";
}

WebSocketHandshake::Result WebSocketHandshake::feed(std::string_view received) const {
    const auto end = received.find("\r\n\r\n");
    if (end == std::string_view::npos)
        return received.size() > kMaxHeader
                   ? refused(fmt::format("no end of the HTTP answer's header in {} bytes",
                                         received.size()))
                   : Result{};
    Result result = judge(received.substr(0, end + 2));
    if (result.status == Status::Accepted) result.consumed = end + 4;
    return result;
}

WebSocketHandshake::Result WebSocketHandshake::judge(std::string_view header) const {
    const std::string_view status_line = header.substr(0, header.find("\r\n"));
    // "HTTP/1.1 101 Switching Protocols"
    if (status_line.substr(0, 5) != "HTTP/" || status_line.find(' ') == std::string_view::npos)
        return refused(
            fmt::format("the answer is not HTTP ('{}')",
                        status_line.substr(0, std::min<std::size_t>(40, status_line.size()))));
    const std::string_view rest = status_line.substr(status_line.find(' ') + 1);
    const std::string_view code = rest.substr(0, 3);
    if (code != "101") {
        const bool transient = code == "408" || code == "429" || code.front() == '5';
        return refused(fmt::format("HTTP {}", trim(rest)), transient);
    }
    const std::string_view headers = header.substr(status_line.size() + 2);
    const auto upgrade = header_value(headers, "Upgrade");
    const auto connection = header_value(headers, "Connection");
    if (!upgrade || !has_token(*upgrade, "websocket") || !connection ||
        !has_token(*connection, "upgrade"))
        return refused("101 without 'Upgrade: websocket' and 'Connection: Upgrade'");
    const auto accept = header_value(headers, "Sec-WebSocket-Accept");
    if (!accept) return refused("101 without Sec-WebSocket-Accept");
    if (*accept != websocket_accept(key_))
        return refused(fmt::format("wrong Sec-WebSocket-Accept '{}' (expected '{}')", *accept,
                                   websocket_accept(key_)));
    const auto protocol = header_value(headers, "Sec-WebSocket-Protocol");
    if (!protocol)
        return refused(
            fmt::format("the server did not agree to the subprotocol '{}' (no "
                        "Sec-WebSocket-Protocol in its answer)",
                        kMqttSubprotocol));
    if (*protocol != kMqttSubprotocol)
        return refused(fmt::format("the server chose the subprotocol '{}', not '{}'", *protocol,
                                   kMqttSubprotocol));
    if (const auto extensions = header_value(headers, "Sec-WebSocket-Extensions"))
        return refused(
            fmt::format("the server chose extensions we did not offer ('{}')", *extensions));
    return {Status::Accepted, 0, {}, false};
}

WebSocketHandshake::Result WebSocketHandshake::refused(std::string_view why, bool transient) const {
    return {Status::Refused, 0,
            fmt::format("WebSocket handshake for path {} refused: {}", path_, why), transient};
}

}  // namespace net

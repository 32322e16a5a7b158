#pragma once
// TLS for the native engine with OpenSSL, driven without blocking on the event loop: the
// handshake is a loop state (Connection::State::Handshaking), reads and writes return
// "would block" instead of waiting. OpenSSL does the socket calls itself (SSL_set_fd on the
// non-blocking socket), so no thread and no extra copy per connection.
//
// The only files that include OpenSSL headers are tls.cpp and the libmosquitto adapter (which
// hands the same options to libmosquitto's own TLS calls).

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <stdexcept>

struct ssl_ctx_st;
struct ssl_st;

namespace net {

// What TLS to speak: the mosquitto_pub/sub flags (--cafile, --cert, ...).
struct TlsOptions {
    std::string cafile;
    std::string capath;
    bool use_os_certs{false};  // the system's CA store (/etc/ssl/certs)
    std::string certfile;      // a client certificate, with keyfile
    std::string keyfile;
    std::string version;   // "tlsv1.2" or "tlsv1.3": exactly that version; empty: 1.2 or newer
    bool insecure{false};  // skip the host name check (self-signed test setups only)
    std::string alpn;      // e.g. "mqtt"
    bool operator==(const TlsOptions&) const = default;
};

// Our own certificates, key or CA files could not be used: names the flag and the file.
class TlsSetupError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The certificates and settings shared by every connection with the same TlsOptions: loaded
// once (a fleet of connections shares one context).
class TlsContext {
  public:
    // Throws TlsSetupError naming the flag and file that could not be used.
    explicit TlsContext(const TlsOptions& options);
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;  // owns the SSL_CTX
    TlsContext& operator=(const TlsContext&) = delete;

    // One context per distinct options, shared while anyone holds it.
    static std::shared_ptr<const TlsContext> shared(const TlsOptions& options);

    ssl_ctx_st* get() const { return ctx_; }
    const TlsOptions& options() const { return options_; }

  private:
    TlsOptions options_;
    ssl_ctx_st* ctx_{nullptr};
};

// One TLS session on one connected, non-blocking socket.
class TlsStream {
  public:
    // Verifies that the certificate names `host` (a name or an IP literal) unless --insecure.
    TlsStream(const TlsContext& context, int fd, const std::string& host);
    ~TlsStream();
    TlsStream(const TlsStream&) = delete;  // owns the SSL object
    TlsStream& operator=(const TlsStream&) = delete;

    enum class Status { Done, WantRead, WantWrite, Closed, Failed };
    struct Result {
        Status status{Status::Done};
        std::size_t bytes{0};  // read or written, with Done
        std::string error;     // with Failed: one line, e.g. "certificate has expired"
    };

    Result handshake();
    Result read(char* data, std::size_t size);
    Result write(const char* data, std::size_t size);
    // Sends close_notify if the socket takes it now; never waits.
    void shutdown() noexcept;
    // "TLSv1.3 TLS_AES_256_GCM_SHA384", once the handshake is done.
    std::string description() const;

  private:
    Result outcome(int ret, const char* during);

    ssl_st* ssl_{nullptr};
};

// Checks TLS options as far as possible without a broker (files readable, certificates and key
// loadable and matching); returns a one-line problem or nothing. For the command line.
std::optional<std::string> check_tls_options(const TlsOptions& options);

}  // namespace net

#include "net/tls.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

namespace net {
namespace {

// The newest reason in OpenSSL's error queue, e.g. "tlsv1 alert unknown ca"; clears the queue.
std::string openssl_reason() {
    unsigned long code = 0;
    unsigned long last = 0;
    while ((code = ERR_get_error()) != 0) last = code;
    if (last == 0) return "unknown TLS error";
    const char* reason = ERR_reason_error_string(last);
    return reason != nullptr ? reason : "TLS error " + std::to_string(last);
}

[[noreturn]] void setup_failed(const std::string& what) {
    throw TlsSetupError(what + ": " + openssl_reason());
}

int protocol_version(const std::string& name) {
    if (name == "tlsv1.3") return TLS1_3_VERSION;
    if (name == "tlsv1.2") return TLS1_2_VERSION;
    return 0;
}

// ALPN protocol names on the wire: each preceded by its length.
std::string alpn_wire(const std::string& list) {
    std::string wire;
    std::size_t start = 0;
    while (start <= list.size()) {
        const std::size_t end = std::min(list.find(',', start), list.size());
        const std::string name = list.substr(start, end - start);
        if (!name.empty() && name.size() < 256) {
            wire.push_back(static_cast<char>(name.size()));
            wire += name;
        }
        start = end + 1;
    }
    return wire;
}

std::string prefixed(const char* during, const std::string& reason) {
    return *during != '\0' ? std::string(during) + ": " + reason : reason;
}

bool is_ip_literal(const std::string& host) {
    unsigned char buf[sizeof(in6_addr)];
    return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
           ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

TlsContext::TlsContext(const TlsOptions& options)
    : options_(options), ctx_(SSL_CTX_new(TLS_client_method())) {
    if (ctx_ == nullptr) setup_failed("cannot create a TLS context");
    try {
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
        const int version = protocol_version(options.version);
        if (!SSL_CTX_set_min_proto_version(ctx_, version != 0 ? version : TLS1_2_VERSION) ||
            !SSL_CTX_set_max_proto_version(ctx_, version))
            setup_failed("--tls-version " + options.version);
        const char* cafile = options.cafile.empty() ? nullptr : options.cafile.c_str();
        const char* capath = options.capath.empty() ? nullptr : options.capath.c_str();
        if ((cafile != nullptr || capath != nullptr) &&
            SSL_CTX_load_verify_locations(ctx_, cafile, capath) != 1)
            setup_failed(cafile != nullptr ? "--cafile " + options.cafile
                                           : "--capath " + options.capath);
        if ((options.use_os_certs || (cafile == nullptr && capath == nullptr)) &&
            SSL_CTX_set_default_verify_paths(ctx_) != 1)
            setup_failed("the system's CA certificates");
        if (!options.certfile.empty() &&
            SSL_CTX_use_certificate_chain_file(ctx_, options.certfile.c_str()) != 1)
            setup_failed("--cert " + options.certfile);
        if (!options.keyfile.empty() &&
            SSL_CTX_use_PrivateKey_file(ctx_, options.keyfile.c_str(), SSL_FILETYPE_PEM) != 1)
            setup_failed("--key " + options.keyfile);
        if (!options.certfile.empty() && SSL_CTX_check_private_key(ctx_) != 1)
            setup_failed("--key " + options.keyfile + " does not match --cert " + options.certfile);
        if (!options.alpn.empty()) {
            const std::string wire = alpn_wire(options.alpn);
            // Unusually, 0 means success here.
            if (wire.empty() ||
                SSL_CTX_set_alpn_protos(ctx_, reinterpret_cast<const unsigned char*>(wire.data()),
                                        static_cast<unsigned>(wire.size())) != 0)
                setup_failed("--alpn " + options.alpn);
        }
        // Writes return per record, so a full socket never makes us wait; the outbox may move
        // between a write that would block and its retry (it only grows at the end).
        SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    } catch (...) {
        SSL_CTX_free(ctx_);
        throw;
    }
}

TlsContext::~TlsContext() {
    SSL_CTX_free(ctx_);
}

std::shared_ptr<const TlsContext> TlsContext::shared(const TlsOptions& options) {
    // Keyed by the options; a context lives while a connection holds it.
    static std::mutex mutex;
    static std::map<std::string, std::weak_ptr<const TlsContext>> contexts;
    const std::string key = options.cafile + '\n' + options.capath + '\n' + options.certfile +
                            '\n' + options.keyfile + '\n' + options.version + '\n' + options.alpn +
                            '\n' + (options.insecure ? '1' : '0') +
                            (options.use_os_certs ? '1' : '0');
    const std::lock_guard lock(mutex);
    if (auto existing = contexts[key].lock()) return existing;
    auto made = std::make_shared<const TlsContext>(options);
    contexts[key] = made;
    return made;
}

TlsStream::TlsStream(const TlsContext& context, int fd, const std::string& host)
    : ssl_(SSL_new(context.get())) {
    if (ssl_ == nullptr) setup_failed("cannot create a TLS session");
    const bool ip = is_ip_literal(host);
    bool ok = SSL_set_fd(ssl_, fd) == 1;
    // Server Name Indication carries names only [RFC 6066, 3].
    // (SSL_set_tlsext_host_name, spelled out: the macro hides a C-style cast.)
    if (ok && !ip)
        ok = SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                      const_cast<char*>(host.c_str())) == 1;
    if (ok && !context.options().insecure) {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
        ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1
                : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1;
    }
    if (!ok) {
        SSL_free(ssl_);
        setup_failed("cannot prepare TLS for " + host);
    }
}

TlsStream::~TlsStream() {
    SSL_free(ssl_);
}

TlsStream::Result TlsStream::outcome(int ret, const char* during) {
    const int error = SSL_get_error(ssl_, ret);
    switch (error) {
        case SSL_ERROR_WANT_READ:
            return {Status::WantRead, 0, {}};
        case SSL_ERROR_WANT_WRITE:
            return {Status::WantWrite, 0, {}};
        case SSL_ERROR_ZERO_RETURN:  // close_notify
            ERR_clear_error();
            return {Status::Closed, 0, {}};
        case SSL_ERROR_SYSCALL: {
            const int saved = errno;
            ERR_clear_error();
            // An end of file without close_notify: the peer closed the TCP connection.
            if (saved == 0) return {Status::Closed, 0, {}};
            return {Status::Failed, 0, prefixed(during, std::strerror(saved))};
        }
        default:
            break;
    }
    const long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) {
        ERR_clear_error();
        return {Status::Failed, 0,
                std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify)};
    }
    return {Status::Failed, 0, prefixed(during, openssl_reason())};
}

TlsStream::Result TlsStream::handshake() {
    ERR_clear_error();
    const int ret = SSL_connect(ssl_);
    if (ret == 1) return {Status::Done, 0, {}};
    const bool io_error = SSL_get_error(ssl_, ret) == SSL_ERROR_SYSCALL;
    Result r = outcome(ret, "");
    if (r.status == Status::Closed) {
        r.status = Status::Failed;
        r.error = "the broker closed the connection";
    }
    // A plain MQTT listener takes the ClientHello for a malformed CONNECT and hangs up; another
    // kind of server answers with bytes that are no TLS record.
    if (r.status == Status::Failed &&
        (io_error || r.error == "the broker closed the connection" ||
         r.error == "wrong version number" || r.error == "packet length too long"))
        r.error += " (is the port a TLS listener?)";
    return r;
}

TlsStream::Result TlsStream::read(char* data, std::size_t size) {
    ERR_clear_error();
    std::size_t n = 0;
    const int ret = SSL_read_ex(ssl_, data, size, &n);
    if (ret == 1) return {Status::Done, n, {}};
    return outcome(ret, "TLS read");
}

TlsStream::Result TlsStream::write(const char* data, std::size_t size) {
    ERR_clear_error();
    std::size_t n = 0;
    const int ret = SSL_write_ex(ssl_, data, size, &n);
    if (ret == 1) return {Status::Done, n, {}};
    return outcome(ret, "TLS write");
}

void TlsStream::shutdown() noexcept {
    ERR_clear_error();
    if (SSL_is_init_finished(ssl_) == 1) SSL_shutdown(ssl_);
    ERR_clear_error();
}

std::string TlsStream::description() const {
    const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_);
    return std::string(SSL_get_version(ssl_)) + " " +
           (cipher != nullptr ? SSL_CIPHER_get_name(cipher) : "");
}

std::optional<std::string> check_tls_options(const TlsOptions& options) {
    if (!options.version.empty() && protocol_version(options.version) == 0)
        return "--tls-version must be tlsv1.2 or tlsv1.3, not '" + options.version + "'";
    if (options.certfile.empty() != options.keyfile.empty()) return "--cert and --key go together";
    const std::pair<const char*, const std::string*> files[] = {{"--cafile", &options.cafile},
                                                                {"--capath", &options.capath},
                                                                {"--cert", &options.certfile},
                                                                {"--key", &options.keyfile}};
    for (const auto& [flag, path] : files)
        if (!path->empty() && ::access(path->c_str(), R_OK) != 0)
            return std::string("cannot read ") + flag + " " + *path + ": " + std::strerror(errno);
    try {
        TlsContext context(options);
    } catch (const TlsSetupError& e) {
        return e.what();
    }
    return std::nullopt;
}

}  // namespace net

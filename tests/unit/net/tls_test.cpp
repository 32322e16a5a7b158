// The TLS options checked before anything connects: each mistake is one line naming the flag.
#include "net/tls.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "temp_dir.hpp"

namespace net {
namespace {

std::string problem(const TlsOptions& options) {
    return check_tls_options(options).value_or("(accepted)");
}

TEST(TlsOptions, NoneOrTheSystemsCertificatesAreAccepted) {
    EXPECT_EQ(problem({}), "(accepted)");
    TlsOptions os;
    os.use_os_certs = true;
    os.version = "tlsv1.3";
    EXPECT_EQ(problem(os), "(accepted)");
}

TEST(TlsOptions, AnUnknownVersionIsNamed) {
    TlsOptions o;
    o.version = "sslv3";
    EXPECT_EQ(problem(o), "--tls-version must be tlsv1.2 or tlsv1.3, not 'sslv3'");
}

TEST(TlsOptions, ACertificateWithoutItsKeyIsRefused) {
    TlsOptions o;
    o.certfile = "client.crt";
    EXPECT_EQ(problem(o), "--cert and --key go together");
}

TEST(TlsOptions, AFileThatCannotBeReadIsNamedWithItsFlagAndReason) {
    TlsOptions o;
    o.cafile = "/nonexistent/ca.crt";
    EXPECT_EQ(problem(o), "cannot read --cafile /nonexistent/ca.crt: No such file or directory");
}

TEST(TlsOptions, AFileThatIsNoCertificateIsNamed) {
    testing_support::TempDir dir;
    const auto path = (dir.path() / "ca.crt").string();
    std::ofstream(path) << "not a certificate\n";
    TlsOptions o;
    o.cafile = path;
    const std::string p = problem(o);
    EXPECT_NE(p, "(accepted)");
    EXPECT_NE(p.find("--cafile"), std::string::npos) << p;
}

}  // namespace
}  // namespace net

// Mosquitto with a TLS listener (a CA, server and client certificates made here with openssl:
// one expired, one for the wrong name): a run through TLS is verified exactly, and every refusal
// has its own line and exit status.

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>

#include <gtest/gtest.h>

#include "harness.hpp"
#include "pair.hpp"

namespace harness {
namespace {

// Runs openssl with file names relative to `dir`; a failure fails the test loudly (openssl
// missing is a setup error, never a skip).
void openssl(const TempDir& dir, std::vector<std::string> args) {
    static const std::vector<std::string> file_flags{"-keyout", "-out",     "-in",     "-CA",
                                                     "-CAkey",  "-extfile", "-signkey"};
    for (std::size_t i = 1; i < args.size(); ++i)
        if (std::find(file_flags.begin(), file_flags.end(), args[i - 1]) != file_flags.end())
            args[i] = (dir / args[i]).string();
    args.insert(args.begin(), "openssl");
    const auto r = run(args, dir.path(), 60s);
    EXPECT_EQ(r.status, 0) << "openssl " << args[1] << " failed: " << r.err;
}

// A CA and certificates signed by it, made once for the suite.
class Certificates {
  public:
    Certificates() {
        openssl(dir_, {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
                       "ca.crt", "-days", "2", "-subj", "/CN=test CA"});
        // Another CA, whose certificates our broker does not trust.
        openssl(dir_, {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rogue.key",
                       "-out", "rogue.crt", "-days", "2", "-subj", "/CN=rogue"});
        openssl(dir_, {"req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
                       "server.csr", "-subj", "/CN=localhost"});
        std::ofstream(dir_ / "right.ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
        std::ofstream(dir_ / "wrong.ext") << "subjectAltName=DNS:broker.example\n";
        sign("server.csr", "server.crt", "2", "right.ext");
        sign("server.csr", "expired.crt", "-1", "right.ext");  // not after < not before
        sign("server.csr", "wrong-name.crt", "2", "wrong.ext");
        openssl(dir_, {"req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out",
                       "client.csr", "-subj", "/CN=sensor"});
        sign("client.csr", "client.crt", "2", "");
    }
    std::string operator[](const std::string& name) const { return (dir_ / name).string(); }

  private:
    void sign(const std::string& csr, const std::string& out, const std::string& days,
              const std::string& ext) {
        std::vector<std::string> args{
            "x509",   "-req", "-in", csr,     "-CA", "ca.crt",      "-CAkey",
            "ca.key", "-out", out,   "-days", days,  "-set_serial", std::to_string(++serial_)};
        if (!ext.empty()) args.insert(args.end(), {"-extfile", ext});
        openssl(dir_, args);
    }
    TempDir dir_;
    int serial_{0};
};

class Tls : public testing::Test {
  protected:
    // Made by the first test that runs (not in SetUpTestSuite: a failure there would show as
    // skipped tests, not failed ones).
    void SetUp() override {
        if (!certs_) certs_ = std::make_unique<Certificates>();
        ASSERT_FALSE(HasFailure()) << "could not make the test certificates";
    }
    static const Certificates& certs() { return *certs_; }

    // A broker whose listener presents `certificate`, optionally requiring client certificates.
    static Broker tls_broker(const std::string& certificate, bool require_client = false) {
        BrokerSettings settings;
        settings.listener_lines = {"cafile " + certs()["ca.crt"],
                                   "certfile " + certs()[certificate],
                                   "keyfile " + certs()["server.key"]};
        if (require_client) settings.listener_lines.push_back("require_certificate true");
        return Broker(settings);
    }
    // A publisher of 10 messages with `flags`, to completion.
    static RunResult publish(const Broker& broker, const TempDir& dir,
                             const std::vector<std::string>& flags) {
        std::vector<std::string> cmd{publisher_path(), "-p", broker.port_str(), "-n", "10"};
        cmd.insert(cmd.end(), flags.begin(), flags.end());
        return run(cmd, dir.path(), 60s);
    }
    static void expect_tls_refusal(const RunResult& r, const Broker& broker,
                                   const std::string& reason) {
        EXPECT_EQ(r.status, 3) << r.err;
        EXPECT_NE(r.err.find("error: broker 127.0.0.1:" + broker.port_str() + ": "),
                  std::string::npos)
            << r.err;
        EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
    }

    static inline std::unique_ptr<Certificates> certs_;
};

TEST_F(Tls, RunThroughTheTlsListenerIsVerifiedExactly) {
    Broker broker = tls_broker("server.crt");
    TempDir dir;
    const std::vector<std::string> tls{"--cafile", certs()["ca.crt"]};
    std::vector<std::string> pub{"-n", "20000", "-d", "20"};
    pub.insert(pub.end(), tls.begin(), tls.end());
    const auto r = run_pair(broker, dir, pub, tls);
    expect_verified(r, 20000);
    EXPECT_NE(r.publisher_err.find("over TLSv1.3"), std::string::npos) << r.publisher_err;
}

TEST_F(Tls, AConnectOnlyRunTimesTheTlsHandshakeOfEveryConnection) {
    Broker broker = tls_broker("server.crt");
    TempDir dir;
    const auto r = run({subscriber_path(), "-p", broker.port_str(), "--cafile", certs()["ca.crt"],
                        "--connect-only", "--connections", "20", "--hold", "0.5", "--report",
                        (dir / "r.json").string()},
                       dir.path(), 120s);
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find(", TLS p50 "), std::string::npos) << r.out;
    const auto steps = read_json(dir / "r.json").at("connections").at("steps_us");
    ASSERT_TRUE(steps.contains("tls")) << steps.dump();
    EXPECT_EQ(steps.at("tls").at("count"), 20);
    EXPECT_GT(steps.at("tls").at("p50").get<std::int64_t>(), 0);
    EXPECT_EQ(steps.at("connack").at("count"), 20);
}

TEST_F(Tls, BothProgramsReconnectThroughTlsAfterABrokerRestartLosingNothing) {
    Broker broker = tls_broker("server.crt");
    TempDir dir;
    const std::string ca = certs()["ca.crt"];
    const auto sub =
        start_subscriber(broker.port_str(), dir, {"--cafile", ca, "--reconnect-max", "0.5"});
    ChildProcess pub({publisher_path(), "-p", broker.port_str(), "--cafile", ca, "-n", "6000", "-r",
                      "2000", "--reconnect-max", "0.5", "--report", (dir / "pub.json").string()},
                     dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_count(dir / "sub.err", "received ", 2000, 30s));
    broker.restart();
    ASSERT_EQ(pub.wait(120s), 0) << read_file(dir / "pub.err");
    ASSERT_EQ(sub->wait(120s), 0) << read_file(dir / "sub.out") << read_file(dir / "sub.err");
    const auto s = read_json(dir / "sub.json");
    EXPECT_EQ(s.at("unique"), 6000);
    EXPECT_EQ(s.at("missing"), 0);
    EXPECT_GE(s.at("reconnects").size(), 1u) << s.dump();
    EXPECT_GE(read_json(dir / "pub.json").at("reconnects").size(), 1u);
}

TEST_F(Tls, LibmosquittoEngineTakesTheSameFlags) {
    Broker broker = tls_broker("server.crt");
    TempDir dir;
    const std::vector<std::string> flags{"--client", "libmosquitto", "--cafile", certs()["ca.crt"]};
    std::vector<std::string> pub{"-n", "2000"};
    pub.insert(pub.end(), flags.begin(), flags.end());
    expect_verified(run_pair(broker, dir, pub, flags), 2000);
    const auto refused = publish(tls_broker("expired.crt"), dir, flags);
    EXPECT_EQ(refused.status, 3) << refused.err;
    EXPECT_NE(refused.err.find("TLS handshake failed"), std::string::npos) << refused.err;
}

TEST_F(Tls, HostNameGivenAsANameIsVerifiedToo) {
    // The name is checked, not only the chain: "localhost" passes against a certificate for
    // localhost and is refused against one for broker.example.
    TempDir dir;
    Broker right = tls_broker("server.crt");
    const auto r = publish(right, dir, {"-h", "localhost", "--cafile", certs()["ca.crt"]});
    EXPECT_EQ(r.status, 0) << r.err;
    Broker wrong = tls_broker("wrong-name.crt");
    const auto refused = publish(wrong, dir, {"-h", "localhost", "--cafile", certs()["ca.crt"]});
    EXPECT_EQ(refused.status, 3) << refused.err;
    EXPECT_NE(refused.err.find("certificate verify failed: hostname mismatch"), std::string::npos)
        << refused.err;
}

TEST_F(Tls, TlsVersionIsTheOneAskedFor) {
    Broker broker = tls_broker("server.crt");
    TempDir dir;
    const auto r =
        publish(broker, dir, {"--cafile", certs()["ca.crt"], "--tls-version", "tlsv1.2"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("over TLSv1.2"), std::string::npos) << r.err;
}

TEST_F(Tls, ExpiredCertificateIsExitThreeSayingSo) {
    Broker broker = tls_broker("expired.crt");
    TempDir dir;
    expect_tls_refusal(publish(broker, dir, {"--cafile", certs()["ca.crt"]}), broker,
                       "certificate verify failed: certificate has expired");
}

TEST_F(Tls, CertificateForAnotherNameIsRefusedUnlessInsecure) {
    Broker broker = tls_broker("wrong-name.crt");
    TempDir dir;
    expect_tls_refusal(publish(broker, dir, {"--cafile", certs()["ca.crt"]}), broker,
                       "certificate verify failed: IP address mismatch");
    const auto insecure = publish(broker, dir, {"--cafile", certs()["ca.crt"], "--insecure"});
    EXPECT_EQ(insecure.status, 0) << insecure.err;
    EXPECT_NE(insecure.err.find("WARNING: --insecure"), std::string::npos) << insecure.err;
}

TEST_F(Tls, UnknownCertificateAuthorityIsRefused) {
    Broker broker = tls_broker("server.crt");
    TempDir dir;
    // Mosquitto sends its CA with the chain: OpenSSL finds a self-signed one it does not trust.
    expect_tls_refusal(publish(broker, dir, {"--cafile", certs()["rogue.crt"]}), broker,
                       "certificate verify failed: self-signed certificate in certificate chain");
}

TEST_F(Tls, ClientCertificateIsRequiredAndChecked) {
    Broker broker = tls_broker("server.crt", true);
    TempDir dir;
    const std::string ca = certs()["ca.crt"];
    expect_tls_refusal(publish(broker, dir, {"--cafile", ca}), broker, "certificate required");
    expect_tls_refusal(
        publish(broker, dir,
                {"--cafile", ca, "--cert", certs()["rogue.crt"], "--key", certs()["rogue.key"]}),
        broker, "unknown ca");
    const auto accepted =
        publish(broker, dir,
                {"--cafile", ca, "--cert", certs()["client.crt"], "--key", certs()["client.key"]});
    EXPECT_EQ(accepted.status, 0) << accepted.err;
}

TEST_F(Tls, PlainClientAtTheTlsPortAndTlsClientAtAPlainPortAreTold) {
    Broker tls_port = tls_broker("server.crt");
    Broker plain_port;
    TempDir dir;
    const auto plain = publish(tls_port, dir, {});
    EXPECT_EQ(plain.status, 3) << plain.err;
    EXPECT_NE(plain.err.find("or the port is a TLS listener: add --cafile"), std::string::npos)
        << plain.err;
    expect_tls_refusal(publish(plain_port, dir, {"--cafile", certs()["ca.crt"]}), plain_port,
                       "is the port a TLS listener?");
}

TEST_F(Tls, UnusableCertificateFilesAreUsageErrors) {
    TempDir dir;
    const std::string ca = certs()["ca.crt"];
    for (const auto& [flags, says] : std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{"--cafile", (dir / "missing.crt").string()}, "cannot read --cafile"},
             {{"--cafile", certs()["ca.key"]}, "--cafile"},
             {{"--cafile", ca, "--cert", certs()["client.crt"]}, "--cert and --key go together"},
             {{"--cafile", ca, "--cert", certs()["client.crt"], "--key", certs()["server.key"]},
              "key values mismatch"},
             {{"--cafile", ca, "--tls-version", "tlsv1.0"}, "--tls-version"}}) {
        for (const std::string& program : {publisher_path(), subscriber_path()}) {
            std::vector<std::string> cmd{program, "-p", "1"};
            cmd.insert(cmd.end(), flags.begin(), flags.end());
            const auto r = run(cmd, dir.path());
            EXPECT_EQ(r.status, 2) << r.err;
            EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
            EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        }
    }
}

}  // namespace
}  // namespace harness

#pragma once
// Certificates for tests of TLS transports (wss://, mqtts:// to brokers other than Mosquitto):
// in `dir`, a CA (ca.crt, ca.key), a server certificate for 127.0.0.1 signed by it (server.crt,
// server.key), and another CA nobody trusts (other.crt). openssl failing fails the test.

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "harness.hpp"

namespace harness {

inline void make_test_certificates(const fs::path& dir) {
    std::ofstream(dir / "san.ext") << "subjectAltName=IP:127.0.0.1\n";
    const std::string d = dir.string() + "/";
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                                   "-keyout", d + "ca.key", "-out", d + "ca.crt", "-days", "2",
                                   "-subj", "/CN=test CA"},
          {"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "server.key", "-out",
           d + "server.csr", "-subj", "/CN=127.0.0.1"},
          {"openssl", "x509", "-req", "-in", d + "server.csr", "-CA", d + "ca.crt", "-CAkey",
           d + "ca.key", "-out", d + "server.crt", "-days", "2", "-set_serial", "1", "-extfile",
           d + "san.ext"},
          {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "other.key",
           "-out", d + "other.crt", "-days", "2", "-subj", "/CN=other CA"}}) {
        const auto r = run(args, dir, 60s);
        ASSERT_EQ(r.status, 0) << r.err;
    }
}

}  // namespace harness

// MQTT over WebSocket against a real WebSocket broker (aedes with the ws module; Debian's
// Mosquitto 2.0.11 is built without WebSocket listeners): runs over ws:// and wss:// verified
// exactly, transports mixed in one run, and each failure's documented behaviour: a refused
// handshake ends with exit 3 naming host, port, path and the status; a close frame that says
// the broker is going away is reconnected; one that judges us is final; a restarted broker is
// reconnected and any loss it caused is reported.

#include <poll.h>
#include <sys/socket.h>

#include <fstream>
#include <thread>

#include "aedes.hpp"
#include "certificates.hpp"
#include "net/websocket_handshake.hpp"
#include "pair.hpp"
#include "scripted_peer.hpp"

namespace harness {
namespace {

using testing_support::listen_on_loopback;

const std::vector<std::string> kOverWs = {"-h", "ws://127.0.0.1"};

TEST(WebSocket, APairOverWsIsVerifiedExactly) {
    TempDir dir;
    AedesBroker aedes(dir, with_websocket());
    const auto r =
        run_pair(aedes.ws_port_str(), dir, {"-h", "ws://127.0.0.1/mqtt", "-n", "20000"}, kOverWs);
    expect_verified(r, 20000);
}

TEST(WebSocket, TheTransportsMixInOneVerifiedRun) {
    // A fleet of per-device WebSocket connections publishes; the subscriber reads over TCP from
    // the same broker; then the other way round.
    TempDir dir;
    AedesBroker aedes(dir, with_websocket());
    auto subscriber = start_subscriber(aedes.port_str(), dir, {});
    const auto fleet = run({publisher_path(), "-h", "ws://127.0.0.1:" + aedes.ws_port_str(), "-n",
                            "3000", "-d", "50", "--connections", "per-device"},
                           dir.path());
    EXPECT_EQ(fleet.status, 0) << fleet.err;
    ASSERT_EQ(subscriber->wait(60s), 0) << read_file(dir / "sub.err");
    EXPECT_EQ(read_json(dir / "sub.json").at("unique"), 3000);

    TempDir other;
    expect_verified(run_pair(aedes.port_str(), other, {"-n", "5000"},
                             {"-h", "ws://127.0.0.1:" + aedes.ws_port_str()}),
                    5000);
}

void make_certificates(const TempDir& dir) {
    make_test_certificates(dir.path());
}

TEST(WebSocket, APairOverWssIsVerifiedAndTheCertificateChecked) {
    TempDir certs;
    ASSERT_NO_FATAL_FAILURE(make_certificates(certs));
    TempDir dir;
    AedesBroker aedes(dir, with_secure_websocket((certs / "server.crt").string(),
                                                 (certs / "server.key").string()));
    const std::vector<std::string> wss = {"-h", "wss://127.0.0.1", "--cafile",
                                          (certs / "ca.crt").string()};
    std::vector<std::string> pub = wss;
    pub.insert(pub.end(), {"-n", "10000"});
    expect_verified(run_pair(aedes.wss_port_str(), dir, pub, wss), 10000);

    // A certificate from a CA we do not trust: exit 3 naming the TLS failure, no WebSocket.
    const auto refused = run({publisher_path(), "-h", "wss://127.0.0.1:" + aedes.wss_port_str(),
                              "--cafile", (certs / "other.crt").string(), "-n", "10"},
                             dir.path());
    EXPECT_EQ(refused.status, 3) << refused.err;
    EXPECT_NE(refused.err.find("certificate verify failed"), std::string::npos) << refused.err;
}

// config/profiles/transports.toml with its hosts moved to the ports of `aedes`.
std::string transports_profile_for(const AedesBroker& aedes) {
    std::string text = read_file(project_dir() / "config/profiles/transports.toml");
    const std::pair<std::string, std::string> moves[] = {
        {"127.0.0.1:1883", "127.0.0.1:" + aedes.port_str()},
        {"127.0.0.1:8883", "127.0.0.1:" + aedes.mqtts_port_str()},
        {"127.0.0.1:8080", "127.0.0.1:" + aedes.ws_port_str()},
        {"127.0.0.1:8081", "127.0.0.1:" + aedes.wss_port_str()}};
    for (const auto& [from, to] : moves) {
        const auto host = text.find("://" + from);
        if (host == std::string::npos)
            ADD_FAILURE() << from << " is not in the example profile";
        else
            text.replace(host + 3, from.size(), to);
    }
    return text;
}

TEST(WebSocket, EachGroupOfAProfileTakesItsOwnTransportAndTheReportComparesThem) {
    // One run, one ledger: the example profile's four groups reach the same broker over TCP,
    // TLS, WS and WSS; the subscriber (over TCP) verifies them all and breaks the figures down
    // by transport.
    TempDir certs;
    ASSERT_NO_FATAL_FAILURE(make_certificates(certs));
    TempDir dir;
    AedesSettings settings =
        with_secure_websocket((certs / "server.crt").string(), (certs / "server.key").string());
    settings.websocket = true;
    settings.mqtts = true;
    AedesBroker aedes(dir, settings);
    std::ofstream(dir / "transports.toml") << transports_profile_for(aedes);
    auto subscriber = start_subscriber(aedes.port_str(), dir, {});
    const auto fleet = run({publisher_path(), "--profile", (dir / "transports.toml").string(),
                            "--duration", "2", "--cafile", (certs / "ca.crt").string()},
                           dir.path(), 60s);
    ASSERT_EQ(fleet.status, 0) << fleet.err;
    ASSERT_EQ(subscriber->wait(60s), 0) << read_file(dir / "sub.err");
    const auto report = read_json(dir / "sub.json");
    EXPECT_EQ(report.at("unique"), 2000);  // 4 groups x 25 devices x 2 s / 100 ms
    const auto& by_transport = report.at("latency_by_transport");
    ASSERT_EQ(by_transport.size(), 4u) << by_transport.dump().substr(0, 300);
    std::uint64_t messages = 0;
    for (const auto& t : by_transport) {
        EXPECT_EQ(t.at("devices"), 25) << t.dump();
        EXPECT_EQ(t.at("messages"), 500) << t.dump();
        EXPECT_GT(t.at("p99_us").get<std::int64_t>(), 0) << t.dump();
        messages += t.at("messages").get<std::uint64_t>();
    }
    EXPECT_EQ(messages, 2000u);
    EXPECT_EQ(by_transport[0].at("transport"), "tcp");  // by name: tcp, tls, ws, wss
    EXPECT_EQ(by_transport[3].at("transport"), "wss");
    EXPECT_NE(read_file(dir / "sub.out").find("over ws: 25 devices, 500 messages"),
              std::string::npos)
        << read_file(dir / "sub.out");
}

// A WebSocket server that answers every handshake with `answer(request)` and then waits.
class HandshakeAnswerer {
  public:
    explicit HandshakeAnswerer(std::function<std::string(const std::string&)> answer)
        : listener_(listen_on_loopback(port_)), thread_([this, answer] {
              for (;;) {
                  pollfd p{listener_.get(), POLLIN, 0};
                  if (::poll(&p, 1, 100) != 1) {
                      if (stop_) return;
                      continue;
                  }
                  net::FileDescriptor fd(::accept(listener_.get(), nullptr, nullptr));
                  std::string request;
                  char buf[4096];
                  while (request.find("\r\n\r\n") == std::string::npos) {
                      const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
                      if (n <= 0) break;
                      request.append(buf, static_cast<std::size_t>(n));
                  }
                  const std::string reply = answer(request);
                  [[maybe_unused]] auto sent = ::send(fd.get(), reply.data(), reply.size(), 0);
                  pollfd q{fd.get(), POLLIN, 0};
                  ::poll(&q, 1, 5000);  // until the client closes
              }
          }) {}
    ~HandshakeAnswerer() {
        stop_ = true;
        thread_.join();
    }
    HandshakeAnswerer(const HandshakeAnswerer&) = delete;  // its thread uses this
    HandshakeAnswerer& operator=(const HandshakeAnswerer&) = delete;
    std::string port_str() const { return std::to_string(port_); }

  private:
    std::uint16_t port_{0};
    net::FileDescriptor listener_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

std::string accept_for(const std::string& request) {
    const std::string name = "Sec-WebSocket-Key: ";
    const auto at = request.find(name) + name.size();
    return net::websocket_accept(request.substr(at, request.find("\r\n", at) - at));
}

TEST(WebSocket, ARefusedHandshakeEndsWithExit3NamingHostPortPathAndStatus) {
    struct Case {
        const char* name;
        std::function<std::string(const std::string&)> answer;
        const char* says;
    };
    const Case cases[] = {
        {"404", [](const std::string&) { return std::string("HTTP/1.1 404 Not Found\r\n\r\n"); },
         "HTTP 404 Not Found"},
        {"no subprotocol",
         [](const std::string& request) {
             return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
                    "Upgrade\r\nSec-WebSocket-Accept: " +
                    accept_for(request) + "\r\n\r\n";
         },
         "did not agree to the subprotocol 'mqtt'"},
        {"wrong accept key",
         [](const std::string&) {
             return std::string(
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
                 "Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n"
                 "Sec-WebSocket-Protocol: mqtt\r\n\r\n");
         },
         "wrong Sec-WebSocket-Accept"},
    };
    for (const Case& c : cases) {
        HandshakeAnswerer server(c.answer);
        TempDir dir;
        for (const std::string& program : {publisher_path(), subscriber_path()}) {
            const auto r = run({program, "-h", "ws://127.0.0.1:" + server.port_str() + "/x/mqtt",
                                "--give-up-after", "30"},
                               dir.path(), 60s);
            EXPECT_EQ(r.status, 3) << c.name << ": " << r.err;
            EXPECT_NE(r.err.find("127.0.0.1:" + server.port_str()), std::string::npos) << r.err;
            EXPECT_NE(r.err.find("path /x/mqtt"), std::string::npos) << r.err;
            EXPECT_NE(r.err.find(c.says), std::string::npos) << c.name << ": " << r.err;
        }
    }
}

TEST(WebSocket, ACloseFrameSayingGoingAwayIsReconnectedAndTheRunVerifies) {
    // Every WebSocket connection is closed with 1001 after 700 ms: the publisher reconnects
    // each time, resends what was unconfirmed, and every message is accounted for.
    TempDir dir;
    AedesBroker aedes(dir, with_websocket(std::pair{700, 1001}));
    const auto r = run_pair(aedes.port_str(), dir,
                            {"-h", "ws://127.0.0.1:" + aedes.ws_port_str(), "-n", "20000", "-r",
                             "8000", "--give-up-after", "30", "--max-schedule-lag-ms", "60000"},
                            {});
    // At least once: resent messages may arrive twice, and are counted as such.
    EXPECT_EQ(r.publisher_status, 0) << r.publisher_err;
    EXPECT_EQ(r.subscriber_status, 0) << r.subscriber_err;
    EXPECT_EQ(r.publisher.value("confirmed", 0u), 20000u);
    EXPECT_EQ(r.subscriber.value("unique", 0u), 20000u);
    EXPECT_EQ(r.subscriber.value("missing", 1u), 0u);
    EXPECT_NE(r.publisher_err.find("1001 (going away)"), std::string::npos) << r.publisher_err;
    EXPECT_GE(r.publisher.at("reconnects").size(), 1u) << r.publisher.dump();
}

TEST(WebSocket, ACloseFrameJudgingUsEndsTheRunWithExit3) {
    TempDir dir;
    AedesBroker aedes(dir, with_websocket(std::pair{500, 1008}));
    const auto r = run({publisher_path(), "-h", "ws://127.0.0.1:" + aedes.ws_port_str(), "-n",
                        "100000", "-r", "2000", "--give-up-after", "30"},
                       dir.path(), 60s);
    EXPECT_EQ(r.status, 3) << r.err;
    EXPECT_NE(r.err.find("closed the WebSocket (path /mqtt) with 1008 (policy violation)"),
              std::string::npos)
        << r.err;
}

TEST(WebSocket, ARestartedBrokerIsReconnectedAndWhatItLostIsRepaired) {
    // aedes keeps nothing across a restart: both programs reconnect over WebSocket; what was
    // published while the subscriber had no session is asked for again end to end (the
    // publisher's replay buffer), so the run still verifies exactly.
    TempDir dir;
    AedesBroker aedes(dir, with_websocket());
    const std::string ws = "ws://127.0.0.1:" + aedes.ws_port_str();
    // The run summary is not retained: the subscriber must be back before it is sent, so both
    // retry at least every 0.5 s and the run lasts seconds past the restart.
    auto subscriber = start_subscriber(
        aedes.ws_port_str(), dir,
        {"-h", "ws://127.0.0.1", "--give-up-after", "30", "--reconnect-max", "0.5"});
    ChildProcess publisher({publisher_path(), "-h", ws, "-n", "30000", "-r", "5000",
                            "--give-up-after", "30", "--reconnect-max", "0.5",
                            // the outage puts a paced run behind its schedule: not this test's
                            "--max-schedule-lag-ms", "60000", "--replay-buffer", "30000",
                            "--report", (dir / "pub.json").string()},
                           dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_count(dir / "sub.err", "received ", 3000, 60s))
        << read_file(dir / "sub.err");
    aedes.restart();
    const auto tail = [](const std::string& text) {
        return text.substr(text.size() > 3000 ? text.size() - 3000 : 0);
    };
    ASSERT_EQ(publisher.wait(120s), 0) << tail(read_file(dir / "pub.err"));
    ASSERT_EQ(subscriber->wait(120s), 0) << tail(read_file(dir / "sub.err"));
    const nlohmann::json pub = read_json(dir / "pub.json");
    const nlohmann::json sub = read_json(dir / "sub.json");
    EXPECT_EQ(pub.at("confirmed"), 30000);
    EXPECT_GE(pub.at("reconnects").size(), 1u);
    EXPECT_GE(sub.at("reconnects").size(), 1u);
    EXPECT_EQ(sub.at("unique"), 30000);
    EXPECT_EQ(sub.at("missing"), 0);
}

}  // namespace
}  // namespace harness

// Interoperability: our engine against independent implementations, so that it is checked
// against the specification rather than against one peer's habits.
//  - libmosquitto (the broker project's client library) on the other end of a run;
//  - aedes, a second broker implementation (Node.js, MQTT 3.1.1 only), which also exercises
//    the fallback from MQTT 5 to 3.1.1.

#include <signal.h>

#include <thread>

#include "pair.hpp"

namespace harness {
namespace {

TEST(Interop, NativePublisherToLibmosquittoSubscriber) {
    Broker broker;
    for (const char* version : {"5", "311"}) {
        TempDir dir;
        expect_verified(run_pair(broker, dir, {"-n", "20000", "-V", version},
                                 {"--client", "libmosquitto", "-V", "311"}),
                        20000);
    }
}

TEST(Interop, LibmosquittoPublisherToNativeSubscriber) {
    Broker broker;
    for (const char* version : {"5", "311"}) {
        TempDir dir;
        expect_verified(
            run_pair(broker, dir,
                     {"-n", "20000", "-q", "2", "--client", "libmosquitto", "-V", version},
                     {"-V", version}),
            20000);
    }
}

// aedes on a free port, a child of the test, stopped by PID.
class AedesBroker {
  public:
    explicit AedesBroker(const TempDir& dir) : port_(free_port()) {
        const fs::path script = project_dir() / "tests/interop/aedes_broker.js";
        if (!fs::exists(project_dir() / "tests/interop/node_modules/aedes"))
            throw std::runtime_error("aedes is not installed: run scripts/deps");
        process_.emplace(std::vector<std::string>{"node", script.string(), std::to_string(port_)},
                         dir / "aedes.out", dir / "aedes.err");
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        while (!process_listens_on(process_->pid(), port_)) {
            if (!process_->running() || std::chrono::steady_clock::now() > deadline)
                throw std::runtime_error("aedes did not start: " + read_file(dir / "aedes.err"));
            std::this_thread::sleep_for(20ms);
        }
    }
    ~AedesBroker() {
        process_->signal(SIGTERM);
        if (!process_->wait(10s)) process_->signal(SIGKILL);
        process_->wait(10s);
    }
    AedesBroker(const AedesBroker&) = delete;  // owns the broker process
    AedesBroker& operator=(const AedesBroker&) = delete;
    std::string port_str() const { return std::to_string(port_); }

  private:
    std::uint16_t port_;
    std::optional<ChildProcess> process_;
};

TEST(Interop, AedesBrokerFallsBackToMqtt311AndDeliversExactly) {
    TempDir dir;
    AedesBroker aedes(dir);
    const auto r = run_pair(aedes.port_str(), dir, {"-n", "20000", "-q", "1"}, {});
    expect_verified(r, 20000);
    EXPECT_NE(r.subscriber_err.find("MQTT 3.1.1 (the broker refused MQTT 5)"), std::string::npos)
        << r.subscriber_err;
    EXPECT_NE(r.publisher_err.find("MQTT 3.1.1 (the broker refused MQTT 5)"), std::string::npos)
        << r.publisher_err;
}

TEST(Interop, AedesBrokerQos2WithExplicitMqtt311) {
    TempDir dir;
    AedesBroker aedes(dir);
    expect_verified(
        run_pair(aedes.port_str(), dir, {"-n", "5000", "-q", "2", "-V", "311"}, {"-V", "311"}),
        5000);
}

}  // namespace
}  // namespace harness

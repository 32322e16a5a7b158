// Interoperability: our engine against independent implementations, so that it is checked
// against the specification rather than against one peer's habits.
//  - libmosquitto (the broker project's client library) on the other end of a run;
//  - aedes, a second broker implementation (Node.js, MQTT 3.1.1 only), which also exercises
//    the fallback from MQTT 5 to 3.1.1.

#include <signal.h>

#include <thread>

#include "aedes.hpp"
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

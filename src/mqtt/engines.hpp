#pragma once
// The engines behind the Client interface, and how to make one.

#include <memory>

#include "mqtt/client.hpp"

namespace net {
class EventLoop;
}

namespace mqtt {

enum class Engine {
    Native,        // our batched engine (src/mqtt/protocol, mqtt/connection + src/net)
    Libmosquitto,  // the broker project's client library: a reference peer and a baseline
};

// A client on an event loop of its own.
std::unique_ptr<Client> make_client(Engine engine);
// A client whose poll() also runs what the caller put on `loop` (a metrics endpoint, say). The
// native engine runs on that loop; libmosquitto runs its own and then gives `loop` a round
// without waiting, so those watchers wait at most one poll() timeout. The loop must outlive it.
std::unique_ptr<Client> make_client(Engine engine, net::EventLoop& loop);
// A native client on a shared loop: many clients, one thread. The loop must outlive it.
std::unique_ptr<Client> make_native_client(net::EventLoop& loop);

}  // namespace mqtt

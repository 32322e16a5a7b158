#include "mqtt/engines.hpp"

namespace mqtt {

// Defined beside each engine (native_client.cpp, libmosquitto_client.cpp).
std::unique_ptr<Client> make_native_client_with_own_loop();
std::unique_ptr<Client> make_native_client_for_one(net::EventLoop& loop);
std::unique_ptr<Client> make_libmosquitto_client(net::EventLoop* side_loop = nullptr);

std::unique_ptr<Client> make_client(Engine engine) {
    return engine == Engine::Native ? make_native_client_with_own_loop()
                                    : make_libmosquitto_client();
}

std::unique_ptr<Client> make_client(Engine engine, net::EventLoop& loop) {
    return engine == Engine::Native ? make_native_client_for_one(loop)
                                    : make_libmosquitto_client(&loop);
}

}  // namespace mqtt

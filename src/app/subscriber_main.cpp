#include "app/subscriber.hpp"

int main(int argc, char** argv) {
    return app::run_main(argc, argv, app::parse_subscriber_args, app::run_subscriber);
}

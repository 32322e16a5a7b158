#include "app/publisher.hpp"

int main(int argc, char** argv) {
    return app::run_main(argc, argv, app::parse_publisher_args, app::run_publisher);
}

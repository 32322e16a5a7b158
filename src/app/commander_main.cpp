#include "app/commander.hpp"

int main(int argc, char** argv) {
    return app::run_main(argc, argv, app::parse_commander_args, app::run_commander);
}

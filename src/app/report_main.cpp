#include "app/report_command.hpp"

int main(int argc, char** argv) {
    return app::run_report_command(argc, argv);
}

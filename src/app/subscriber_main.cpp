#include <cstdio>

#include "app/subscriber.hpp"

int main(int argc, char** argv) {
    const auto parsed = app::parse_subscriber_args(std::vector<std::string>(argv, argv + argc));
    if (!parsed.options) {
        std::fputs(parsed.out.c_str(), stdout);
        if (!parsed.err.empty()) std::fprintf(stderr, "%s\n", parsed.err.c_str());
        return parsed.exit_status;
    }
    return app::run_subscriber(*parsed.options);
}

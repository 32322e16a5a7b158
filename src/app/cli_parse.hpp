#pragma once
// Running CLI11 on a command line: only the files that declare flags include it (it costs ~20 s
// of compile time per file).

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "app/cli_common.hpp"
#include "app/exit_status.hpp"

namespace app {

// Runs CLI11 on args (args[0] is the program name) and maps its errors to exit statuses.
// `validate` returns an error message for values that parse but make no sense together.
template <typename Options, typename Validate>
Parsed<Options> parse_with(CLI::App& app, Options& options, const std::vector<std::string>& args,
                           Validate validate) {
    std::vector<const char*> argv;
    argv.reserve(args.size());
    for (const std::string& a : args) argv.push_back(a.c_str());
    Parsed<Options> result;
    const std::string program = args.empty() ? app.get_name() : args[0];
    try {
        app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::CallForHelp&) {
        result.out = app.help();
        return result;
    } catch (const CLI::CallForVersion& e) {
        result.out = std::string(e.what()) + "\n";
        return result;
    } catch (const CLI::ParseError& e) {
        result.exit_status = kUsageError;
        result.err = program + ": error: " + e.what() + " (see --help)";
        return result;
    }
    if (std::optional<std::string> problem = validate(options)) {
        result.exit_status = kUsageError;
        result.err = program + ": error: " + *problem + " (see --help)";
        return result;
    }
    result.options = options;
    return result;
}

}  // namespace app

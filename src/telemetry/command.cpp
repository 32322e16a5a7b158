#include "telemetry/command.hpp"

#include <nlohmann/json.hpp>

namespace telemetry {
namespace {

const char* result_name(CommandResult r) {
    switch (r) {
        case CommandResult::Accepted:
            return "accepted";
        case CommandResult::Ok:
            return "ok";
        case CommandResult::Failed:
            return "failed";
    }
    return "?";
}

// The object in `payload`, or null with `error` set.
nlohmann::json parsed(std::string_view payload, std::string& error) {
    nlohmann::json j = nlohmann::json::parse(payload, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        error = "not a JSON object";
        return nlohmann::json();
    }
    return j;
}

template <class T>
bool take(const nlohmann::json& j, const char* key, T& into, std::string& error) {
    const auto it = j.find(key);
    if (it == j.end()) {
        error = std::string("no \"") + key + "\"";
        return false;
    }
    try {
        into = it->get<T>();
    } catch (const nlohmann::json::exception&) {
        error = std::string("\"") + key + "\" has the wrong type";
        return false;
    }
    return true;
}

}  // namespace

std::string encode_command(const Command& c) {
    return nlohmann::json{{"run", c.run},          {"command", c.id},      {"device", c.device},
                          {"seq", c.seq},          {"sent_us", c.sent_us}, {"name", c.name},
                          {"reply_to", c.reply_to}}
        .dump();
}

std::string encode_answer(const CommandAnswer& a) {
    return nlohmann::json{{"run", a.run},
                          {"command", a.id},
                          {"device", a.device},
                          {"seq", a.seq},
                          {"result", result_name(a.result)},
                          {"executions", a.executions},
                          {"duplicate", a.duplicate},
                          {"received_us", a.received_us},
                          {"answered_us", a.answered_us}}
        .dump();
}

std::optional<Command> decode_command(std::string_view payload, std::string& error) {
    const nlohmann::json j = parsed(payload, error);
    Command c;
    if (j.is_null() || !take(j, "run", c.run, error) || !take(j, "command", c.id, error) ||
        !take(j, "device", c.device, error) || !take(j, "seq", c.seq, error) ||
        !take(j, "sent_us", c.sent_us, error) || !take(j, "name", c.name, error) ||
        !take(j, "reply_to", c.reply_to, error))
        return std::nullopt;
    return c;
}

std::optional<CommandAnswer> decode_answer(std::string_view payload, std::string& error) {
    const nlohmann::json j = parsed(payload, error);
    CommandAnswer a;
    std::string result;
    if (j.is_null() || !take(j, "run", a.run, error) || !take(j, "command", a.id, error) ||
        !take(j, "device", a.device, error) || !take(j, "seq", a.seq, error) ||
        !take(j, "result", result, error) || !take(j, "executions", a.executions, error) ||
        !take(j, "duplicate", a.duplicate, error) ||
        !take(j, "received_us", a.received_us, error) ||
        !take(j, "answered_us", a.answered_us, error))
        return std::nullopt;
    for (const CommandResult r :
         {CommandResult::Accepted, CommandResult::Ok, CommandResult::Failed})
        if (result == result_name(r)) {
            a.result = r;
            return a;
        }
    error = "\"result\" is none of accepted, ok, failed";
    return std::nullopt;
}

}  // namespace telemetry

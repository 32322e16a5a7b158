#include "mqtt/protocol/topic_filter.hpp"

namespace mqtt::protocol {
namespace {

// The next level of `s` (up to '/' or the end), and `s` past it and its separator; `more` is
// false once `s` had no separator left.
struct Level {
    std::string_view text;
    bool more;
};

Level take_level(std::string_view& s) {
    const auto slash = s.find('/');
    if (slash == std::string_view::npos) {
        const Level level{s, false};
        s = {};
        return level;
    }
    const Level level{s.substr(0, slash), true};
    s.remove_prefix(slash + 1);
    return level;
}

}  // namespace

bool topic_matches(std::string_view filter, std::string_view topic) {
    if (!topic.empty() && topic.front() == '$' && !filter.empty() &&
        (filter.front() == '+' || filter.front() == '#'))
        return false;
    for (;;) {
        const Level f = take_level(filter);
        if (f.text == "#") return true;  // this level and all below, or none ("a/#" matches "a")
        const Level t = take_level(topic);
        if (f.text != "+" && f.text != t.text) return false;
        if (!f.more || !t.more) {
            if (f.more) return filter == "#";  // "a/#" matches "a"
            return !t.more;
        }
    }
}

std::optional<std::string> topic_filter_error(std::string_view filter) {
    if (filter.empty()) return "a topic filter must not be empty";
    if (filter.find('\0') != std::string_view::npos)
        return "a topic filter must not contain the null character";
    std::string_view rest = filter;
    for (;;) {
        const Level level = take_level(rest);
        const auto multi = level.text.find('#');
        if (multi != std::string_view::npos && (level.text.size() != 1 || level.more))
            return "'#' must be the whole last level of a topic filter: '" + std::string(filter) +
                   "'";
        if (level.text.find('+') != std::string_view::npos && level.text.size() != 1)
            return "'+' must be a whole level of a topic filter: '" + std::string(filter) + "'";
        if (!level.more) return std::nullopt;
    }
}

}  // namespace mqtt::protocol

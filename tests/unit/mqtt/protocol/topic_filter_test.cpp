// Topic filters against the examples of MQTT 5.0 section 4.7, as a table: filter, topic, and
// whether it matches.

#include <gtest/gtest.h>

#include "mqtt/protocol/topic_filter.hpp"

namespace mqtt::protocol {
namespace {

struct Case {
    const char* filter;
    const char* topic;
    bool matches;
};

TEST(TopicFilter, MatchesAsTheSpecificationsExamplesSay) {
    const Case cases[] = {
        // 4.7.1.2: '#' matches the parent level and any number of child levels.
        {"sport/tennis/player1/#", "sport/tennis/player1", true},
        {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
        {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
        {"sport/#", "sport", true},
        {"#", "sport/tennis", true},
        {"sport/tennis/#", "sport/tennis", true},
        {"sport/tennis/#", "sport/tennisplayer1", false},
        // 4.7.1.3: '+' matches exactly one level, an empty one too.
        {"sport/tennis/+", "sport/tennis/player1", true},
        {"sport/tennis/+", "sport/tennis/player1/ranking", false},
        {"sport/+", "sport", false},
        {"sport/+", "sport/", true},
        {"+/+", "/finance", true},
        {"/+", "/finance", true},
        {"+", "/finance", false},
        {"+/tennis/#", "sport/tennis/player1", true},
        // Plain levels compare exactly, no prefix match either way.
        {"sensors/1", "sensors/1", true},
        {"sensors/1", "sensors/10", false},
        {"sensors/10", "sensors/1", false},
        {"sensors/1/temp", "sensors/1", false},
        {"sensors/1", "sensors/1/temp", false},
        // 4.7.2: a filter starting with a wildcard does not match a topic starting with '$'.
        {"#", "$SYS/broker/uptime", false},
        {"+/monitor/Clients", "$SYS/monitor/Clients", false},
        {"$SYS/#", "$SYS/broker/uptime", true},
        {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
    };
    for (const Case& c : cases)
        EXPECT_EQ(topic_matches(c.filter, c.topic), c.matches) << c.filter << " on " << c.topic;
}

TEST(TopicFilter, MalformedFiltersAreNamedWithTheirRule) {
    for (const char* good : {"#", "+", "sport/#", "sport/+/player1", "+/+", "/", "a//b", "$SYS/#"})
        EXPECT_EQ(topic_filter_error(good), std::nullopt) << good;
    for (const char* bad : {"", "sport/tennis#", "sport/#/ranking", "#/a", "sport+", "sport/+x"})
        EXPECT_NE(topic_filter_error(bad), std::nullopt) << bad;
    EXPECT_NE(topic_filter_error(std::string_view("a\0b", 3)), std::nullopt);
}

}  // namespace
}  // namespace mqtt::protocol

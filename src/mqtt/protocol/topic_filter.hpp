#pragma once
// Topic filters as MQTT defines them (section 4.7): which topic names a filter matches, and
// which filters are well formed. Pure: the subscriber uses it to expect only what its
// subscriptions can deliver.

#include <optional>
#include <string>
#include <string_view>

namespace mqtt::protocol {

// Whether `filter` matches the topic name `topic`. '+' matches one level (an empty one too),
// '#' the level before it and every level below. A filter that starts with a wildcard does not
// match a topic that starts with '$' [MQTT-4.7.2-1]. `filter` must be well formed.
bool topic_matches(std::string_view filter, std::string_view topic);

// Why `filter` is not a well-formed topic filter, or nullopt: empty [MQTT-4.7.3-1], '#' not
// alone in the last level [MQTT-4.7.1-1], '+' not alone in its level [MQTT-4.7.1-2].
std::optional<std::string> topic_filter_error(std::string_view filter);

}  // namespace mqtt::protocol

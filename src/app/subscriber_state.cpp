#include "app/subscriber_state.hpp"

#include <fmt/format.h>

#include <random>

namespace app {
namespace {

constexpr int kSubscriberFormat = 1;
// Fold the journal into a snapshot past this size: bounds the disk used and the replay time
// (about 25 bytes per message: a snapshot every ~1.3 million messages).
constexpr std::uint64_t kSubscriberSnapshotAfterBytes = std::uint64_t{32} << 20;

telemetry::Fact::Kind kind_of(std::string_view tag) {
    if (tag == "r") return telemetry::Fact::Kind::Reading;
    if (tag == "m") return telemetry::Fact::Kind::Malformed;
    if (tag == "c") return telemetry::Fact::Kind::Corrupt;
    if (tag == "s") return telemetry::Fact::Kind::Summary;
    throw std::invalid_argument("unknown record '" + std::string(tag) + "'");
}

}  // namespace

SubscriberState::SubscriberState(const std::filesystem::path& dir, const std::string& requested_id)
    : dir_(dir) {
    const nlohmann::json& saved = dir_.snapshot();
    resuming_ = !saved.is_null() && saved.value("format", 0) == kSubscriberFormat &&
                !saved.value("finished", true);
    client_id_ = requested_id;
    if (client_id_.empty() && resuming_) client_id_ = saved.value("client_id", "");
    if (client_id_.empty())
        client_id_ = fmt::format("mqtt_subscriber-{:08x}", std::random_device{}());
    // A new run starts with an empty snapshot, so the client id is durable before we connect.
    if (!resuming_) snapshot(nullptr, false);
}

std::uint64_t SubscriberState::restore(telemetry::Verifier& verifier) {
    std::uint64_t replayed = 0;
    try {
        const nlohmann::json& saved = dir_.snapshot();
        if (!saved.at("verifier").is_null()) verifier.restore(saved.at("verifier"));
        for (const std::string& line : dir_.journal_lines()) {
            const auto f = state::split_fields(line);
            const telemetry::Fact::Kind kind = kind_of(f.at(0));
            std::string a, b;  // owners of the unescaped fields
            telemetry::Fact fact{.kind = kind};
            if (kind == telemetry::Fact::Kind::Reading) {
                a = state::unescape_field(f.at(1));
                b = state::unescape_field(f.at(2));
                fact.run = a;
                fact.device = b;
                fact.seq = std::stoull(std::string(f.at(3)));
                fact.latency_us = std::stoll(std::string(f.at(4)));
            } else if (kind == telemetry::Fact::Kind::Summary) {
                a = state::unescape_field(f.at(1));
                fact.payload = a;
            } else {
                a = state::unescape_field(f.at(1));
                b = state::unescape_field(f.at(2));
                fact.topic = a;
                fact.reason = b;
            }
            verifier.replay(fact);
            ++replayed;
        }
    } catch (const std::exception& e) {
        throw state::StateError(fmt::format("state directory {}: damaged after {} records: {}",
                                            dir_.path().string(), replayed, e.what()));
    }
    return replayed;
}

void SubscriberState::append(const telemetry::Fact& fact) {
    line_.clear();
    auto out = std::back_inserter(line_);
    switch (fact.kind) {
        case telemetry::Fact::Kind::Reading:
            fmt::format_to(out, "r\t{}\t{}\t{}\t{}\n", state::escape_field(fact.run),
                           state::escape_field(fact.device), fact.seq, fact.latency_us);
            break;
        case telemetry::Fact::Kind::Summary:
            fmt::format_to(out, "s\t{}\n", state::escape_field(fact.payload));
            break;
        case telemetry::Fact::Kind::Malformed:
        case telemetry::Fact::Kind::Corrupt:
            fmt::format_to(out, "{}\t{}\t{}\n", static_cast<char>(fact.kind),
                           state::escape_field(fact.topic), state::escape_field(fact.reason));
            break;
    }
    dir_.append(line_);
}

void SubscriberState::commit(const telemetry::Verifier& verifier) {
    if (dir_.journal_bytes() >= kSubscriberSnapshotAfterBytes) return snapshot(&verifier, false);
    dir_.commit();
}

void SubscriberState::close(const telemetry::Verifier& verifier, bool finished) {
    snapshot(&verifier, finished);
}

void SubscriberState::snapshot(const telemetry::Verifier* verifier, bool finished) {
    dir_.write_snapshot({{"format", kSubscriberFormat},
                         {"client_id", client_id_},
                         {"finished", finished},
                         {"verifier", verifier ? verifier->state() : nlohmann::json()}});
}

}  // namespace app

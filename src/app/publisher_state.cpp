#include "app/publisher_state.hpp"

#include <fmt/format.h>

namespace app {
namespace {

constexpr int kPublisherFormat = 1;
constexpr std::uint64_t kPublisherSnapshotAfterBytes = std::uint64_t{1} << 20;

}  // namespace

PublisherState::PublisherState(const std::filesystem::path& dir, nlohmann::json arguments)
    : dir_(dir), arguments_(std::move(arguments)) {
    const nlohmann::json& saved = dir_.snapshot();
    if (saved.is_null() || saved.value("format", 0) != kPublisherFormat ||
        saved.value("finished", true))
        return;
    try {
        if (saved.at("arguments") != arguments_)
            throw state::StateError(fmt::format(
                "state directory {} holds the unfinished run {} of other arguments ({}); finish "
                "it with those, or use another directory",
                dir.string(), saved.at("run").get<std::string>(), saved.at("arguments").dump()));
        run_id_ = saved.at("run").get<std::string>();
        confirmed_through_ = saved.at("confirmed_through").get<std::uint64_t>();
        for (const std::string& line : dir_.journal_lines())
            confirmed_through_ = std::max<std::uint64_t>(confirmed_through_, std::stoull(line));
    } catch (const state::StateError&) {
        throw;
    } catch (const std::exception& e) {
        throw state::StateError(
            fmt::format("state directory {}: damaged: {}", dir.string(), e.what()));
    }
    written_ = confirmed_through_;
    resuming_ = true;
}

void PublisherState::begin(const std::string& run_id) {
    run_id_ = run_id;
    confirmed_through_ = written_ = 0;
    snapshot(false);
}

void PublisherState::record(std::uint64_t confirmed_through) {
    confirmed_through_ = confirmed_through;
    const auto now = std::chrono::steady_clock::now();
    if (confirmed_through == written_ || now - written_at_ < kEvery) return;
    written_ = confirmed_through;
    written_at_ = now;
    if (dir_.journal_bytes() >= kPublisherSnapshotAfterBytes) return snapshot(false);
    dir_.append(std::to_string(confirmed_through) + "\n");
    dir_.commit();
}

void PublisherState::close(std::uint64_t confirmed_through, bool finished) {
    confirmed_through_ = confirmed_through;
    snapshot(finished);
}

void PublisherState::snapshot(bool finished) {
    dir_.write_snapshot({{"format", kPublisherFormat},
                         {"run", run_id_},
                         {"arguments", arguments_},
                         {"confirmed_through", confirmed_through_},
                         {"finished", finished}});
}

}  // namespace app

#pragma once
// The publisher's crash-safe progress (--state-dir): the run id, and the number of messages
// from the start of the run that are all confirmed (message k goes to device k mod devices as
// its sequence number k / devices + 1, so this says, per device, up to which sequence number
// everything is confirmed). Started again with the same arguments after a crash, the
// publisher resumes the same run from there: what was in flight at the crash is sent again
// and shows up at the subscriber as duplicates, never as loss.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "state/state_dir.hpp"

namespace app {

class PublisherState {
  public:
    // Opens and locks `dir`. `arguments` are the run's defining arguments: a saved unfinished run
    // with other arguments is refused (state::StateError), as is a damaged state.
    PublisherState(const std::filesystem::path& dir, nlohmann::json arguments);

    bool resuming() const { return resuming_; }
    const std::string& run_id() const { return run_id_; }
    std::uint64_t confirmed_through() const { return confirmed_through_; }

    // A new run starts: durable before its first message.
    void begin(const std::string& run_id);
    // Everything before message `confirmed_through` is confirmed; written at most every
    // `kEvery`, durable (one fdatasync) when written.
    void record(std::uint64_t confirmed_through);
    // The end: `finished` means the next start begins a new run.
    void close(std::uint64_t confirmed_through, bool finished);

    static constexpr auto kEvery = std::chrono::milliseconds(100);

  private:
    void snapshot(bool finished);

    state::StateDir dir_;
    nlohmann::json arguments_;
    std::string run_id_;
    std::uint64_t confirmed_through_{0};
    std::uint64_t written_{0};
    std::chrono::steady_clock::time_point written_at_{};
    bool resuming_{false};
};

}  // namespace app

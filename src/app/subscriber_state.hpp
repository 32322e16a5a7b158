#pragma once
// The subscriber's crash-safe state (--state-dir): every fact the verifier learns is journalled,
// and each read batch is made durable before its PUBACKs leave (Client::on_batch_end), so a
// subscriber killed at any moment and started again with the same arguments continues the
// same run with the same client id (so the broker's persistent session), and accounts for
// every message once. A large journal is folded into a snapshot of the verifier.

#include <cstdint>
#include <filesystem>
#include <string>

#include "state/state_dir.hpp"
#include "telemetry/verifier.hpp"

namespace app {

class SubscriberState final : public telemetry::FactLog {
  public:
    // Opens and locks `dir`. The client id is `requested_id` if given, else the one an earlier
    // process of this run used, else a new one. Throws state::StateError.
    SubscriberState(const std::filesystem::path& dir, const std::string& requested_id);

    // An earlier process of this run left state that restore() will load.
    bool resuming() const { return resuming_; }
    const std::string& client_id() const { return client_id_; }
    // Loads the snapshot and replays the journal into `verifier`; returns the facts replayed.
    // Throws state::StateError on a damaged state.
    std::uint64_t restore(telemetry::Verifier& verifier);

    void append(const telemetry::Fact& fact) override;
    // Makes every fact appended so far durable: at the end of each read batch.
    void commit(const telemetry::Verifier& verifier);
    // A last snapshot; `finished`: the run is over, and the next start begins a new one.
    void close(const telemetry::Verifier& verifier, bool finished);

  private:
    void snapshot(const telemetry::Verifier* verifier, bool finished);

    state::StateDir dir_;
    std::string client_id_;
    bool resuming_{false};
    std::string line_;  // reused for every fact
};

}  // namespace app

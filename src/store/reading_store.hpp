#pragma once
// --store: where the subscriber keeps every intact reading. A store is a sink (app/
// message_sink.hpp) whose batch_end() makes the batch durable before its PUBACKs leave.
//   sqlite:FILE               store/sqlite_store.hpp
//   postgresql://... (or postgres://...)   store/postgres_store.hpp (a libpq URI)

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "telemetry/message_sink.hpp"

namespace store {

// The one-line reason a store failed, e.g. "sqlite run.db: database is locked".
class StoreError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class ReadingStore : public telemetry::MessageSink {
  public:
    // Committed by this process: readings stored, redeliveries the primary key turned away,
    // and readings kept beside a stored one with the same key and other values.
    std::uint64_t stored() const { return stored_; }
    std::uint64_t duplicates() const { return duplicates_; }
    std::uint64_t conflicts() const { return conflicts_; }
    // For the report: where() with "stored", "duplicates_ignored" and "conflicting_kept".
    nlohmann::json summary() const;
    // A line for the verdict when readings conflicted with stored ones.
    std::vector<std::string> problems() const override;

  protected:
    // {"kind": "sqlite", "path": ...}: which store, and where.
    virtual nlohmann::json where() const = 0;
    // Rows offered to the open transaction, how many of them the primary key let in, and how
    // many of the others went to conflicting_readings.
    void pending(std::uint64_t rows, std::uint64_t inserted, std::uint64_t conflicting) {
        batch_rows_ += rows;
        batch_inserted_ += inserted;
        batch_conflicts_ += conflicting;
    }
    // The open transaction committed: its counts become the store's.
    void committed();

  private:
    std::uint64_t stored_{0}, duplicates_{0}, conflicts_{0};
    std::uint64_t batch_rows_{0}, batch_inserted_{0}, batch_conflicts_{0};
};

// A problem with the --store value, or nothing (for the command line).
std::optional<std::string> check_store_spec(const std::string& spec);
// Opens the store `spec` names. Throws StoreError.
std::unique_ptr<ReadingStore> open_store(const std::string& spec);

}  // namespace store

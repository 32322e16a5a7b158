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

#include <nlohmann/json.hpp>

#include "app/message_sink.hpp"

namespace store {

// The one-line reason a store failed, e.g. "sqlite run.db: database is locked".
class StoreError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class ReadingStore : public app::MessageSink {
  public:
    // Committed by this process: readings stored, and redeliveries the primary key turned away.
    std::uint64_t stored() const { return stored_; }
    std::uint64_t duplicates() const { return duplicates_; }
    // For the report: where() with "stored" and "duplicates_ignored".
    nlohmann::json summary() const;

  protected:
    // {"kind": "sqlite", "path": ...}: which store, and where.
    virtual nlohmann::json where() const = 0;
    // Rows offered to the open transaction, and how many of them the primary key let in.
    void pending(std::uint64_t rows, std::uint64_t inserted) {
        batch_rows_ += rows;
        batch_inserted_ += inserted;
    }
    // The open transaction committed: its counts become the store's.
    void committed();

  private:
    std::uint64_t stored_{0}, duplicates_{0};
    std::uint64_t batch_rows_{0}, batch_inserted_{0};
};

// A problem with the --store value, or nothing (for the command line).
std::optional<std::string> check_store_spec(const std::string& spec);
// Opens the store `spec` names. Throws StoreError.
std::unique_ptr<ReadingStore> open_store(const std::string& spec);

}  // namespace store

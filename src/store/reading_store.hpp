#pragma once
// --store: where the subscriber keeps every intact reading. A store is a sink (app/
// message_sink.hpp) whose batch_end() makes the batch durable before its PUBACKs leave.
//   sqlite:FILE               store/sqlite_store.hpp
//   postgresql://... (or postgres://...)   store/postgres_store.hpp (a libpq URI)

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
    // For the report: {"kind", where it is, "stored", "duplicates_ignored"}.
    virtual nlohmann::json summary() const = 0;
};

// A problem with the --store value, or nothing (for the command line).
std::optional<std::string> check_store_spec(const std::string& spec);
// Opens the store `spec` names. Throws StoreError.
std::unique_ptr<ReadingStore> open_store(const std::string& spec);

}  // namespace store

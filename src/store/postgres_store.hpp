#pragma once
// --store postgresql://...: every intact reading written to PostgreSQL (libpq) through the
// subscriber's sink seam, with the SQLite store's guarantee: the readings of a read batch go
// in one transaction, committed in batch_end() before the batch's PUBACKs leave (PostgreSQL
// commits durably: synchronous_commit on, its default). Rows go out as multi-row INSERTs of
// up to 1000 rows, `ON CONFLICT DO NOTHING` on the primary key (run, device, seq), so a
// redelivered reading is stored once (one with other values goes to conflicting_readings, as
// in SQLite). Connection details are libpq's: the URI, and for the
// password PGPASSWORD or ~/.pgpass, so none needs to be on the command line.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "store/reading_store.hpp"

struct pg_conn;

namespace store {

class PostgresStore final : public ReadingStore {
  public:
    // Connects and creates the table if needed. Throws StoreError (never naming a password).
    explicit PostgresStore(const std::string& uri);
    ~PostgresStore() override;
    PostgresStore(const PostgresStore&) = delete;  // owns the connection
    PostgresStore& operator=(const PostgresStore&) = delete;

    void accept(const telemetry::Delivery& delivery) override;
    void batch_end() override;

  private:
    nlohmann::json where() const override { return {{"kind", "postgresql"}, {"database", where_}}; }
    // Runs one statement; returns the rows it changed. Throws StoreError.
    std::uint64_t execute(const std::string& sql, const char* doing);
    void flush_rows();  // the rows so far as one INSERT inside the batch's transaction
    void accept_raw(const telemetry::Delivery& delivery);  // raw_messages: no sensor values
    void flush_raw_rows();

    pg_conn* conn_{nullptr};
    std::string where_;   // host:port/database, for messages
    std::string values_;  // the rows of the INSERT being built: ('run','dev',…),(…)
    std::uint64_t rows_in_insert_{0};
    std::string raw_values_;  // the same for raw_messages: (...,'\x<body in hex>'::bytea),...
    std::uint64_t raw_rows_{0};
    bool in_transaction_{false};
};

}  // namespace store

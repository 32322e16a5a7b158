#pragma once
// --store sqlite:FILE: every intact reading written to SQLite through the subscriber's sink
// seam. One transaction per read batch, committed in batch_end(), which runs before that
// batch's PUBACKs are written: a reading the broker saw acknowledged is in the database, so a
// crash never loses one (an uncommitted batch was never acknowledged and comes again). A
// primary key on (run, device, seq) keeps a redelivered reading stored once; a reading under a
// stored key with other values goes to conflicting_readings instead (both copies kept).
//
// WAL mode with synchronous=FULL: a commit is on disk (fsync of the WAL) before batch_end()
// returns, so the guarantee holds for a power cut too, not only for a crashed process.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "store/reading_store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace store {

// The schema, also in docs/guide.md ("Keeping the data"):
inline constexpr const char* kSqliteSchema =
    "CREATE TABLE IF NOT EXISTS readings (\n"
    "  run TEXT NOT NULL,\n"
    "  device TEXT NOT NULL,\n"
    "  seq INTEGER NOT NULL,\n"
    "  sent_us INTEGER NOT NULL,      -- the payload's ts: microseconds since the Unix epoch\n"
    "  received_us INTEGER NOT NULL,  -- when the subscriber received it, same clock\n"
    "  temperature_c REAL NOT NULL,\n"
    "  humidity_pct REAL NOT NULL,\n"
    "  pressure_hpa REAL NOT NULL,\n"
    "  battery_pct REAL NOT NULL,\n"
    "  PRIMARY KEY (run, device, seq)\n"
    ") WITHOUT ROWID;\n"
    "-- A reading whose (run, device, seq) is already stored with other values (pressure or\n"
    "-- battery; temperature and humidity follow the send time): a second publisher under the\n"
    "-- same run id, or a forged reading. Both copies are kept; the subscriber's verdict fails.\n"
    "CREATE TABLE IF NOT EXISTS conflicting_readings (\n"
    "  run TEXT NOT NULL, device TEXT NOT NULL, seq INTEGER NOT NULL,\n"
    "  sent_us INTEGER NOT NULL, received_us INTEGER NOT NULL,\n"
    "  temperature_c REAL NOT NULL, humidity_pct REAL NOT NULL,\n"
    "  pressure_hpa REAL NOT NULL, battery_pct REAL NOT NULL\n"
    ");\n"
    "-- A message whose body carries no sensor values (a binary envelope with an opaque body:\n"
    "-- --payload-format random, or a device's own bytes): the envelope's fields, the body.\n"
    "CREATE TABLE IF NOT EXISTS raw_messages (\n"
    "  run TEXT NOT NULL,\n"
    "  device TEXT NOT NULL,\n"
    "  seq INTEGER NOT NULL,\n"
    "  sent_us INTEGER NOT NULL,\n"
    "  received_us INTEGER NOT NULL,\n"
    "  body BLOB NOT NULL,            -- without the envelope's header and checksum\n"
    "  PRIMARY KEY (run, device, seq)\n"
    ") WITHOUT ROWID;\n"
    "-- A raw message whose key is stored with another body: kept, as conflicting_readings.\n"
    "CREATE TABLE IF NOT EXISTS conflicting_raw_messages (\n"
    "  run TEXT NOT NULL, device TEXT NOT NULL, seq INTEGER NOT NULL,\n"
    "  sent_us INTEGER NOT NULL, received_us INTEGER NOT NULL, body BLOB NOT NULL\n"
    ")";

class SqliteStore final : public ReadingStore {
  public:
    // Opens or creates the database and the table. Throws StoreError.
    explicit SqliteStore(const std::string& path);
    // Rolls back a batch that was never committed (its PUBACKs never left).
    ~SqliteStore() override;
    SqliteStore(const SqliteStore&) = delete;  // owns the connection and statements
    SqliteStore& operator=(const SqliteStore&) = delete;

    // Inserts an intact reading into the open transaction (malformed and corrupt ones are
    // not stored); a message without sensor values goes to raw_messages. Throws StoreError.
    void accept(const telemetry::Delivery& delivery) override;
    // Commits the batch. Throws StoreError: then no PUBACK of the batch leaves.
    void batch_end() override;

  private:
    nlohmann::json where() const override { return {{"kind", "sqlite"}, {"path", path_}}; }
    void execute(const char* sql);
    // Runs a bound statement and resets it; returns the rows it changed. Throws StoreError.
    int step(sqlite3_stmt* statement);
    [[noreturn]] void fail(const std::string& doing) const;
    sqlite3_stmt* prepare(const char* sql, const char* doing);
    void accept_raw(const telemetry::Delivery& delivery);

    std::string path_;
    sqlite3* db_{nullptr};
    sqlite3_stmt* insert_{nullptr};
    sqlite3_stmt* keep_conflict_{nullptr};  // the row, if the stored one has other values
    sqlite3_stmt* insert_raw_{nullptr};     // the same two for raw_messages
    sqlite3_stmt* keep_raw_conflict_{nullptr};
    bool in_transaction_{false};
};

}  // namespace store

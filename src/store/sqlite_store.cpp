#include "store/sqlite_store.hpp"

#include <sqlite3.h>

namespace store {

SqliteStore::SqliteStore(const std::string& path) : path_(path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
        const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw StoreError("sqlite " + path + ": cannot open: " + why);
    }
    try {
        // A reader (sqlite3 in another terminal) may hold a lock for a moment: wait, not fail.
        sqlite3_busy_timeout(db_, 5000);
        execute("PRAGMA journal_mode=WAL");
        execute("PRAGMA synchronous=FULL");
        execute(kSqliteSchema);
        if (sqlite3_prepare_v3(db_,
                               "INSERT OR IGNORE INTO readings VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                               "?7, ?8, ?9)",
                               -1, SQLITE_PREPARE_PERSISTENT, &insert_, nullptr) != SQLITE_OK)
            fail("cannot prepare the insert");
    } catch (...) {
        sqlite3_finalize(insert_);
        sqlite3_close(db_);
        throw;
    }
}

SqliteStore::~SqliteStore() {
    if (in_transaction_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_finalize(insert_);
    sqlite3_close(db_);
}

void SqliteStore::fail(const std::string& doing) const {
    throw StoreError("sqlite " + path_ + ": " + doing + ": " + sqlite3_errmsg(db_));
}

void SqliteStore::execute(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
}

void SqliteStore::accept(const app::Delivery& d) {
    if (!d.decoded.reading) return;
    const telemetry::Reading& r = *d.decoded.reading;
    if (!in_transaction_) {
        execute("BEGIN");
        in_transaction_ = true;
    }
    sqlite3_bind_text(insert_, 1, r.run.data(), static_cast<int>(r.run.size()), SQLITE_STATIC);
    sqlite3_bind_text(insert_, 2, r.device.data(), static_cast<int>(r.device.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(insert_, 3, static_cast<sqlite3_int64>(r.seq));
    sqlite3_bind_int64(insert_, 4, r.ts_us);
    sqlite3_bind_int64(insert_, 5, d.arrived_epoch_us);
    sqlite3_bind_double(insert_, 6, r.temperature_c);
    sqlite3_bind_double(insert_, 7, r.humidity_pct);
    sqlite3_bind_double(insert_, 8, r.pressure_hpa);
    sqlite3_bind_double(insert_, 9, r.battery_pct);
    const int rc = sqlite3_step(insert_);
    sqlite3_reset(insert_);
    if (rc != SQLITE_DONE) fail("cannot insert a reading");
    // No change: the primary key already holds it, so it is stored once.
    pending(1, sqlite3_changes(db_) > 0 ? 1 : 0);
}

void SqliteStore::batch_end() {
    if (!in_transaction_) return;
    in_transaction_ = false;
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        fail("cannot commit");
    }
    committed();
}

}  // namespace store

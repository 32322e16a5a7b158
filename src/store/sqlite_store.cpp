#include "store/sqlite_store.hpp"

#include <sqlite3.h>

namespace store {
namespace {

// Parameters as the insert's. Compares what content_digest() covers and the table holds.
constexpr const char* kKeepConflict =
    "INSERT INTO conflicting_readings SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 FROM readings "
    "WHERE run = ?1 AND device = ?2 AND seq = ?3 AND (pressure_hpa <> ?8 OR battery_pct <> ?9)";

// A raw message the same way: the body compared whole.
constexpr const char* kKeepRawConflict =
    "INSERT INTO conflicting_raw_messages SELECT ?1, ?2, ?3, ?4, ?5, ?6 FROM raw_messages "
    "WHERE run = ?1 AND device = ?2 AND seq = ?3 AND body <> ?6";

// The key and the times: the first five parameters of both tables' statements.
void bind_key(sqlite3_stmt* statement, const telemetry::Reading& r, std::int64_t arrived_epoch_us) {
    sqlite3_bind_text(statement, 1, r.run.data(), static_cast<int>(r.run.size()), SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, r.device.data(), static_cast<int>(r.device.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(statement, 3, static_cast<sqlite3_int64>(r.seq));
    sqlite3_bind_int64(statement, 4, r.ts_us);
    sqlite3_bind_int64(statement, 5, arrived_epoch_us);
}

void bind_reading(sqlite3_stmt* statement, const telemetry::Reading& r,
                  std::int64_t arrived_epoch_us) {
    bind_key(statement, r, arrived_epoch_us);
    sqlite3_bind_double(statement, 6, r.temperature_c);
    sqlite3_bind_double(statement, 7, r.humidity_pct);
    sqlite3_bind_double(statement, 8, r.pressure_hpa);
    sqlite3_bind_double(statement, 9, r.battery_pct);
}

}  // namespace

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
        insert_ = prepare(
            "INSERT OR IGNORE INTO readings VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
            "?8, ?9)",
            "cannot prepare the insert");
        keep_conflict_ = prepare(kKeepConflict, "cannot prepare the conflict check");
        insert_raw_ = prepare("INSERT OR IGNORE INTO raw_messages VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                              "cannot prepare the insert of raw messages");
        keep_raw_conflict_ = prepare(kKeepRawConflict, "cannot prepare the raw conflict check");
    } catch (...) {
        for (sqlite3_stmt* s : {keep_raw_conflict_, insert_raw_, keep_conflict_, insert_})
            sqlite3_finalize(s);
        sqlite3_close(db_);
        throw;
    }
}

SqliteStore::~SqliteStore() {
    if (in_transaction_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    for (sqlite3_stmt* s : {keep_raw_conflict_, insert_raw_, keep_conflict_, insert_})
        sqlite3_finalize(s);
    sqlite3_close(db_);
}

sqlite3_stmt* SqliteStore::prepare(const char* sql, const char* doing) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr) !=
        SQLITE_OK)
        fail(doing);
    return statement;
}

void SqliteStore::fail(const std::string& doing) const {
    throw StoreError("sqlite " + path_ + ": " + doing + ": " + sqlite3_errmsg(db_));
}

void SqliteStore::execute(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
}

void SqliteStore::accept(const telemetry::Delivery& d) {
    if (!d.decoded.reading) return;
    const telemetry::Reading& r = *d.decoded.reading;
    if (!in_transaction_) {
        execute("BEGIN");
        in_transaction_ = true;
    }
    if (!d.decoded.has_values) return accept_raw(d);
    bind_reading(insert_, r, d.arrived_epoch_us);
    if (step(insert_) > 0) return pending(1, 1, 0);
    // No change: the primary key already holds it. A redelivery is stored once; other values
    // are kept beside it.
    bind_reading(keep_conflict_, r, d.arrived_epoch_us);
    pending(1, 0, step(keep_conflict_));
}

void SqliteStore::accept_raw(const telemetry::Delivery& d) {
    const std::string_view body = d.decoded.body;
    for (sqlite3_stmt* statement : {insert_raw_, keep_raw_conflict_}) {
        bind_key(statement, *d.decoded.reading, d.arrived_epoch_us);
        sqlite3_bind_blob64(statement, 6, body.data(), body.size(), SQLITE_STATIC);
    }
    if (step(insert_raw_) > 0) return pending(1, 1, 0);
    // A varying body (content 0: a template) may differ in a legal resend: not compared.
    pending(1, 0, d.decoded.content == 0 ? 0 : step(keep_raw_conflict_));
}

int SqliteStore::step(sqlite3_stmt* statement) {
    const int rc = sqlite3_step(statement);
    sqlite3_reset(statement);
    if (rc != SQLITE_DONE) fail("cannot insert a reading");
    return sqlite3_changes(db_);
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

// The SQLite store behind the subscriber's sink seam: each intact reading stored once, a batch
// visible only once committed (its PUBACKs leave after that), failures named.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "sqlite_query.hpp"
#include "store/sqlite_store.hpp"
#include "temp_dir.hpp"

namespace store {
namespace {

telemetry::Reading reading(const std::string& device, std::uint64_t seq) {
    telemetry::Reading r;
    r.run = "run-1";
    r.device = device;
    r.seq = seq;
    r.ts_us = 1'764'102'213'000'000 + static_cast<std::int64_t>(seq);
    r.temperature_c = 21.5;
    r.humidity_pct = 45.25;
    r.pressure_hpa = 1013.0;
    r.battery_pct = 99.5;
    return r;
}

// Hands `payload` to the store as the subscriber would, received at `received_us`.
void deliver(SqliteStore& store, const std::string& payload, std::int64_t received_us = 7) {
    const telemetry::DecodedReading decoded = telemetry::decode_reading(payload);
    store.accept(
        {"sensors/x/telemetry", payload, std::chrono::steady_clock::now(), received_us, decoded});
}
std::string payload_of(const telemetry::Reading& r) {
    std::string out;
    return std::string(telemetry::encode_reading(r, out));
}

// A query's single integer answer, from a connection of its own (as a user's sqlite3 would).
using testing_support::sqlite_query;

TEST(SqliteStore, StoresEachIntactReadingOnceAndIgnoresRedeliveries) {
    testing_support::TempDir dir;
    const auto db = dir.path() / "readings.db";
    SqliteStore store(db.string());
    for (std::uint64_t seq : {1, 2, 3, 2}) deliver(store, payload_of(reading("dev-a", seq)), 42);
    deliver(store, "not a reading");  // malformed: the verifier counts it, the store skips it
    store.batch_end();
    EXPECT_EQ(store.stored(), 3u);
    EXPECT_EQ(store.duplicates(), 1u);
    EXPECT_EQ(sqlite_query(db, "SELECT COUNT(*) FROM readings"), 3);
    EXPECT_EQ(sqlite_query(db, "SELECT received_us FROM readings WHERE seq = 3"), 42);
    EXPECT_EQ(sqlite_query(db, "SELECT sent_us FROM readings WHERE seq = 3"),
              1'764'102'213'000'003);
    EXPECT_EQ(
        sqlite_query(db,
                     "SELECT COUNT(*) FROM readings WHERE device = 'dev-a' AND run = 'run-1' "
                     "AND temperature_c = 21.5 AND humidity_pct = 45.25 AND battery_pct = 99.5"),
        3);
}

TEST(SqliteStore, ABatchIsInvisibleUntilCommittedAndLostBatchesComeAgain) {
    testing_support::TempDir dir;
    const auto db = dir.path() / "readings.db";
    {
        SqliteStore store(db.string());
        deliver(store, payload_of(reading("dev-a", 1)));
        store.batch_end();
        deliver(store, payload_of(reading("dev-a", 2)));
        EXPECT_EQ(sqlite_query(db, "SELECT COUNT(*) FROM readings"), 1);  // not yet committed
    }  // the process dies before the batch ends: no PUBACK went out for seq 2
    EXPECT_EQ(sqlite_query(db, "SELECT COUNT(*) FROM readings"), 1);
    SqliteStore again(db.string());  // the broker sends seq 2 again to the next process
    deliver(again, payload_of(reading("dev-a", 1)));
    deliver(again, payload_of(reading("dev-a", 2)));
    again.batch_end();
    EXPECT_EQ(sqlite_query(db, "SELECT COUNT(*) FROM readings"), 2);
    EXPECT_EQ(again.stored(), 1u);
    EXPECT_EQ(again.duplicates(), 1u);
}

TEST(SqliteStore, AReadingWithOtherValuesUnderAStoredKeyIsKeptBesideItAndNamed) {
    testing_support::TempDir dir;
    const auto db = dir.path() / "readings.db";
    SqliteStore store(db.string());
    deliver(store, payload_of(reading("dev-a", 1)));
    store.batch_end();
    telemetry::Reading forged = reading("dev-a", 1);
    forged.battery_pct = 12.0;
    telemetry::Reading resent = reading("dev-a", 1);  // a resumed publisher's resend: the
    resent.temperature_c = 22.0;                      // values that follow the send time differ
    deliver(store, payload_of(forged));
    deliver(store, payload_of(resent));
    deliver(store, payload_of(reading("dev-a", 1)));
    store.batch_end();
    EXPECT_EQ(store.stored(), 1u);
    EXPECT_EQ(store.duplicates(), 2u);
    EXPECT_EQ(store.conflicts(), 1u);
    EXPECT_EQ(sqlite_query(db, "SELECT COUNT(*) FROM readings WHERE battery_pct = 99.5"), 1);
    EXPECT_EQ(sqlite_query(db, "SELECT COUNT(*) FROM conflicting_readings WHERE battery_pct = 12"),
              1);
    ASSERT_EQ(store.problems().size(), 1u);
    EXPECT_NE(store.problems()[0].find("1 readings differ"), std::string::npos);
    EXPECT_EQ(store.summary().at("conflicting_kept"), 1);
}

TEST(SqliteStore, RedeliveriesAloneAreNoProblem) {
    testing_support::TempDir dir;
    SqliteStore store((dir.path() / "readings.db").string());
    deliver(store, payload_of(reading("dev-a", 1)));
    deliver(store, payload_of(reading("dev-a", 1)));
    store.batch_end();
    EXPECT_TRUE(store.problems().empty());
    EXPECT_EQ(store.summary().at("conflicting_kept"), 0);
}

TEST(SqliteStore, AnUnusableFileIsAStoreErrorNamingIt) {
    testing_support::TempDir dir;
    try {
        SqliteStore store((dir.path() / "no-such-dir" / "x.db").string());
        FAIL() << "opened a database in a missing directory";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("no-such-dir/x.db"), std::string::npos) << e.what();
    }
    const auto text = dir.path() / "not-a-db";
    std::FILE* f = std::fopen(text.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("this is not a database, it is a text file of some length ...\n", f);
    std::fclose(f);
    EXPECT_THROW(SqliteStore(text.string()), StoreError);
}

}  // namespace
}  // namespace store

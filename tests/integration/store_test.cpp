// --store sqlite:FILE end to end: the database holds every verified reading exactly once, also
// when the subscriber is killed mid-run and started again (its unacknowledged batch comes
// again from the broker; what it acknowledged was committed first).

#include <signal.h>
#include <sqlite3.h>

#include <gtest/gtest.h>

#include "pair.hpp"

namespace harness {
namespace {

std::int64_t query(const fs::path& db, const std::string& sql) {
    sqlite3* c = nullptr;
    EXPECT_EQ(sqlite3_open_v2(db.c_str(), &c, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK) << db;
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(c, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(c);
    std::int64_t value = -1;
    if (sqlite3_step(s) == SQLITE_ROW) value = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(c);
    return value;
}

TEST(Store, SqliteHoldsEveryVerifiedReadingOnce) {
    Broker broker;
    TempDir dir;
    const fs::path db = dir / "readings.db";
    const auto r =
        run_pair(broker, dir, {"-n", "5000", "-d", "10"}, {"--store", "sqlite:" + db.string()});
    expect_verified(r, 5000);
    EXPECT_EQ(query(db, "SELECT COUNT(*) FROM readings"), 5000);
    EXPECT_EQ(query(db, "SELECT COUNT(DISTINCT device) FROM readings"), 10);
    EXPECT_EQ(query(db, "SELECT MAX(seq) FROM readings"), 500);
    EXPECT_EQ(query(db, "SELECT COUNT(*) FROM readings WHERE received_us < sent_us"), 0);
    EXPECT_EQ(r.subscriber.at("store").at("stored"), 5000);
    EXPECT_EQ(r.subscriber.at("store").at("duplicates_ignored"), 0);
}

TEST(Store, SubscriberKilledMidRunLosesNoAcknowledgedReading) {
    // Fault: SIGKILL while readings stream in, then the same command again (persistent session,
    // --state-dir for the ledger). Expected: the database ends with every reading exactly once.
    Broker broker;
    TempDir dir;
    const fs::path db = dir / "readings.db";
    const std::vector<std::string> args{"--state-dir", (dir / "state").string(), "-i", "store-sub",
                                        "--store",     "sqlite:" + db.string()};
    auto sub = start_subscriber(broker.port_str(), dir, args);
    ChildProcess pub({publisher_path(), "-p", broker.port_str(), "-n", "20000", "-r", "5000", "-Q"},
                     dir / "pub.out", dir / "pub.err");
    ASSERT_TRUE(wait_for_count(dir / "sub.err", "received ", 6000, 60s))
        << read_file(dir / "sub.err");
    sub->signal(SIGKILL);
    sub->wait(10s);
    fs::remove(dir / "sub.err");
    sub = start_subscriber(broker.port_str(), dir, args);
    ASSERT_EQ(pub.wait(120s), 0) << read_file(dir / "pub.err");
    ASSERT_EQ(sub->wait(120s), 0) << read_file(dir / "sub.out") << read_file(dir / "sub.err");
    EXPECT_EQ(read_json(dir / "sub.json").at("unique"), 20000);
    EXPECT_EQ(query(db, "SELECT COUNT(*) FROM readings"), 20000);
}

TEST(Store, AnUnusableDatabaseIsAUsageErrorBeforeConnecting) {
    TempDir dir;
    const auto r = run(
        {subscriber_path(), "-p", "1", "--store", "sqlite:" + (dir / "missing" / "x.db").string()},
        dir.path());
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("missing/x.db"), std::string::npos) << r.err;
    const auto wrong = run({subscriber_path(), "-p", "1", "--store", "mysql://x"}, dir.path());
    EXPECT_EQ(wrong.status, 2) << wrong.err;
    EXPECT_NE(wrong.err.find("--store must be sqlite:FILE"), std::string::npos) << wrong.err;
}

}  // namespace
}  // namespace harness

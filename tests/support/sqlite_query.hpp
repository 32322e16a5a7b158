#pragma once
// The single integer answer of an SQL query on a SQLite file, from a connection of its own (as a
// user's sqlite3 would), for tests of --store sqlite. -1 and a test failure when there is none.

#include <sqlite3.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace testing_support {

inline std::int64_t sqlite_query(const std::filesystem::path& db, const std::string& sql) {
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

}  // namespace testing_support

// The crash-safe state directory: snapshot and journal survive the process, a torn journal
// end is dropped, a snapshot starts a new journal generation, a second process is locked out.

#include "state/state_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "temp_dir.hpp"

namespace state {
namespace {

using testing_support::TempDir;

TEST(StateDir, CommittedJournalLinesAndTheSnapshotSurviveTheProcess) {
    TempDir tmp;
    {
        StateDir dir(tmp.path());
        EXPECT_TRUE(dir.snapshot().is_null());
        dir.write_snapshot({{"answer", 42}});
        dir.append("one\n");
        dir.append("two\n");
        dir.commit();
        dir.append("never committed\n");  // the process dies before the commit
    }
    StateDir again(tmp.path());
    EXPECT_EQ(again.snapshot()["answer"], 42);
    EXPECT_EQ(again.journal_lines(), (std::vector<std::string>{"one", "two"}));
}

TEST(StateDir, ATornLastLineIsDroppedAndNewLinesDoNotGlueOntoIt) {
    TempDir tmp;
    {
        StateDir dir(tmp.path());
        dir.append("whole\n");
        dir.commit();
    }
    {
        std::ofstream journal(tmp.path() / "journal-0", std::ios::app);
        journal << "tor";  // a write cut short by kill -9
    }
    {
        StateDir dir(tmp.path());
        EXPECT_EQ(dir.journal_lines(), (std::vector<std::string>{"whole"}));
        dir.append("next\n");
        dir.commit();
    }
    EXPECT_EQ(StateDir(tmp.path()).journal_lines(), (std::vector<std::string>{"whole", "next"}));
}

TEST(StateDir, ASnapshotStartsAnEmptyJournalAndTheOldOneIsNeverReplayed) {
    TempDir tmp;
    {
        StateDir dir(tmp.path());
        dir.append("before\n");
        dir.commit();
        dir.write_snapshot({{"covers", "before"}});
        dir.append("after\n");
        dir.commit();
    }
    StateDir again(tmp.path());
    EXPECT_EQ(again.snapshot()["generation"], 1);
    EXPECT_EQ(again.journal_lines(), (std::vector<std::string>{"after"}));
    EXPECT_FALSE(std::filesystem::exists(tmp.path() / "journal-0"));
}

TEST(StateDir, ASecondUserOfTheDirectoryIsRefusedNamingIt) {
    TempDir tmp;
    StateDir first(tmp.path());
    try {
        StateDir second(tmp.path());
        FAIL() << "two processes share one state directory";
    } catch (const StateError& e) {
        EXPECT_NE(std::string(e.what()).find("in use by another process"), std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find(tmp.path().string()), std::string::npos);
    }
}

TEST(StateDir, ADamagedSnapshotIsAnErrorNamingTheFile) {
    TempDir tmp;
    std::ofstream(tmp.path() / "state.json") << "{not json";
    EXPECT_THROW(StateDir dir(tmp.path()), StateError);
}

TEST(StateDir, FieldsWithTabsNewlinesAndPercentSignsRoundTrip) {
    const std::string odd = "a\tb\nc%d\re";
    const std::string escaped = escape_field(odd);
    EXPECT_EQ(escaped.find_first_of("\t\n\r"), std::string::npos);
    EXPECT_EQ(unescape_field(escaped), odd);
    EXPECT_EQ(split_fields("r\tx\t\t3"), (std::vector<std::string_view>{"r", "x", "", "3"}));
}

}  // namespace
}  // namespace state

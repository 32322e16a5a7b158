// The publisher's state directory (--state-dir): a run survives the publisher's own end.
#include "app/publisher_state.hpp"

#include <gtest/gtest.h>

#include "temp_dir.hpp"

namespace app {
namespace {

const nlohmann::json kStateArguments{{"count", 50}, {"devices", 5}};

TEST(PublisherState, ProgressRecordedBeforeACrashIsWhereTheRunResumes) {
    testing_support::TempDir tmp;
    {
        PublisherState state(tmp.path(), kStateArguments);
        EXPECT_FALSE(state.resuming());
        state.begin("r1");
        state.record(500);  // durable at once: nothing was written yet
    }                       // kill -9: no close()
    PublisherState state(tmp.path(), kStateArguments);
    EXPECT_TRUE(state.resuming());
    EXPECT_EQ(state.run_id(), "r1");
    EXPECT_EQ(state.confirmed_through(), 500u);
}

TEST(PublisherState, AnUnfinishedRunOfOtherArgumentsIsRefusedNamingIt) {
    testing_support::TempDir tmp;
    { PublisherState(tmp.path(), kStateArguments).begin("r1"); }
    try {
        PublisherState state(tmp.path(), {{"count", 7}, {"devices", 5}});
        FAIL() << "resumed a run with other arguments";
    } catch (const state::StateError& e) {
        EXPECT_NE(std::string(e.what()).find("unfinished run r1 of other arguments"),
                  std::string::npos)
            << e.what();
    }
}

TEST(PublisherState, AFinishedRunStartsANewOne) {
    testing_support::TempDir tmp;
    {
        PublisherState state(tmp.path(), kStateArguments);
        state.begin("r1");
        state.close(50, true);
    }
    EXPECT_FALSE(PublisherState(tmp.path(), kStateArguments).resuming());
}
}  // namespace
}  // namespace app

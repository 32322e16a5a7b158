#include "report/model.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "report/merge.hpp"

namespace report {
namespace {

using Fields = std::set<std::string>;

template <class T>
Fields fields_of() {
    Fields names;
    const Json all = T{};
    for (const auto& [key, value] : all.items()) names.insert(key);
    return names;
}

// Every type of the model, by the name its section in src/report/README.md gives.
std::map<std::string, Fields> model() {
    return {{"SubscriberReport", fields_of<SubscriberReport>()},
            {"PublisherReport", fields_of<PublisherReport>()},
            {"Latency", fields_of<Latency>()},
            {"Gap", fields_of<Gap>()},
            {"DeviceCounts", fields_of<DeviceCounts>()},
            {"DeviceStatus", fields_of<DeviceStatus>()},
            {"SlowDevice", fields_of<SlowDevice>()},
            {"ShardLatency", fields_of<ShardLatency>()},
            {"TransportLatency", fields_of<TransportLatency>()},
            {"Consumer", fields_of<Consumer>()},
            {"Reconnect", fields_of<Reconnect>()},
            {"Connections", fields_of<Connections>()},
            {"Retained", fields_of<Retained>()},
            {"Member", fields_of<Member>()},
            {"Churn", fields_of<Churn>()},
            {"DeviceCommands", fields_of<DeviceCommands>()},
            {"CommanderReport", fields_of<CommanderReport>()},
            {"ScheduleLag", fields_of<ScheduleLag>()},
            {"Thresholds", fields_of<telemetry::Thresholds>()}};
}

// The documented fields: "## Title (`Type`)" opens a section, "| `field` | ..." is a field.
std::map<std::string, Fields> documented() {
    std::ifstream in(TELEMETRY_SOURCE_DIR "/src/report/README.md");
    EXPECT_TRUE(in) << "src/report/README.md not found";
    const std::regex section(R"(^## .*\(`(\w+)`\)\s*$)"), row(R"(^\| `(\w+)` \|)");
    std::map<std::string, Fields> docs;
    Fields* current = nullptr;
    std::string line;
    std::smatch m;
    while (std::getline(in, line)) {
        if (std::regex_match(line, m, section))
            current = &docs[m[1]];
        else if (line.rfind("## ", 0) == 0)
            current = nullptr;
        else if (current != nullptr && std::regex_search(line, m, row))
            current->insert(m[1]);
    }
    return docs;
}

TEST(ReportModel, EveryDocumentedFieldIsInTheModelAndBack) {
    const auto types = model();
    const auto docs = documented();
    ASSERT_FALSE(docs.empty()) << "no section found: the check would check nothing";
    for (const auto& [type, fields] : types) {
        const auto it = docs.find(type);
        ASSERT_NE(it, docs.end()) << type << " has no section in src/report/README.md";
        for (const std::string& f : fields)
            EXPECT_EQ(it->second.count(f), 1u) << type << "." << f << " is not documented";
        for (const std::string& f : it->second)
            EXPECT_EQ(fields.count(f), 1u)
                << type << "." << f << " is documented but not in the model";
    }
    for (const auto& [type, fields] : docs)
        EXPECT_EQ(types.count(type), 1u) << "section " << type << " documents no type of the model";
}

SubscriberReport a_subscriber_report() {
    SubscriberReport r;
    r.received = 12;
    r.unique = 10;
    r.expected = 11;
    r.missing = 1;
    r.gaps = {{"run-1", "dev-2", 4, 4, 1}};
    r.devices = {2, 2, 1, 1};
    r.device_status = DeviceStatus{"status/#", 1, 1, 3, {"dev-2"}};
    r.slowest_devices = {{"dev-2", 900, 1200, 5}};
    r.latency_us.p99 = 1500;
    r.latency_us.buckets = {{1000, 1003, 4}};
    r.thresholds.max_duplicates = 3;
    r.failed_checks = {"missing 1 > --max-missing 0"};
    r.reconnects = {{1.5, "broker closed", 0.2, 2, true, std::nullopt}};
    r.end_reason = "idle-timeout";
    r.exit_status = 1;
    r.state = {{"ledger", {{"x", 1}}}};
    return r;
}

TEST(ReportModel, AReportReadBackIsTheReportWritten) {
    const Json written = a_subscriber_report();
    const Json again = written.get<SubscriberReport>();
    EXPECT_EQ(again, written);
    EXPECT_EQ(written.at("missing"), 1);
    EXPECT_EQ(written.at("thresholds").at("max_p99_ms"), nullptr);
    EXPECT_EQ(written.at("latency_us").at("buckets"), Json::parse("[[1000,1003,4]]"));
}

// At a million devices the state is most of a report: taking moves it instead of copying.
TEST(ReportModel, ATakenReportIsTheSameAsACopiedOneAndGivesUpItsState) {
    const Json copied = a_subscriber_report();
    Json doc = copied;
    SubscriberReport taken = take_from_json<SubscriberReport>(std::move(doc));
    EXPECT_EQ(taken.state, copied.at("state"));
    // NOLINTNEXTLINE(bugprone-use-after-move): the test is what the move left behind
    EXPECT_TRUE(doc.at("state").is_null()) << "moved out, not copied";
    const Json again = take_into_json(std::move(taken));
    EXPECT_EQ(again, copied);
    // NOLINTNEXTLINE(bugprone-use-after-move): the test is what the move left behind
    EXPECT_TRUE(taken.state.is_null()) << "moved out, not copied";
}

TEST(ReportModel, AShareMembersMissingIsNullAndReadsBackAsNone) {
    SubscriberReport r;
    r.share_group = "g";
    const Json j = r;
    EXPECT_TRUE(j.at("missing").is_null());
    const auto back = j.get<SubscriberReport>();
    EXPECT_FALSE(back.missing.has_value());
    EXPECT_TRUE(back.sharing());
}

TEST(ReportModel, AnOlderReportWithoutAFieldKeepsItsDefault) {
    const auto r =
        Json::parse(R"({"program":"mqtt_publisher","published":5})").get<PublisherReport>();
    EXPECT_EQ(r.published, 5u);
    EXPECT_EQ(r.confirmed, 0u);
    EXPECT_EQ(r.exit_status, -1) << "a report that does not say how it ended is no success";
}

TEST(ReportModel, AFieldOfTheWrongTypeIsNamedWithItsPath) {
    const Json bad = Json::parse(R"({"program":"mqtt_subscriber","devices":{"known":"many"}})");
    try {
        (void)bad.get<SubscriberReport>();
        FAIL() << "a string was taken as a count";
    } catch (const FieldError& e) {
        EXPECT_EQ(e.path(), "devices.known");
        EXPECT_STREQ(e.what(), "devices.known: expected a number, found string");
    }
    const Json gaps = Json::parse(R"({"program":"mqtt_subscriber","gaps":[{"first":[]}]})");
    EXPECT_THROW((void)gaps.get<SubscriberReport>(), FieldError);
    const Json missing = Json::parse(R"({"program":"mqtt_subscriber","missing":"none"})");
    try {
        (void)missing.get<SubscriberReport>();
        FAIL();
    } catch (const FieldError& e) {
        EXPECT_STREQ(e.what(), "missing: expected a number or null, found string");
    }
}

TEST(ReportModel, TheMergeNamesTheFileWhoseFieldIsWrong) {
    const Input in{"sub.json", Json::parse(R"({"program":"mqtt_subscriber","received":3,
                                                "unique":"x"})")};
    try {
        (void)read_subscriber(in);
        FAIL();
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "sub.json: unique: expected a number, found string");
    }
    EXPECT_THROW((void)read_publisher(in), std::runtime_error) << "another program's report";
}

}  // namespace
}  // namespace report

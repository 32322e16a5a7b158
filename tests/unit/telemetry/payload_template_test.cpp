#include "telemetry/payload_template.hpp"

#include <gtest/gtest.h>

#include <set>

namespace telemetry {
namespace {

Reading template_reading() {
    return Reading{"run-1", "sensor-0001", 42, 1764102213123456, -3.5, 45.25, 1013.0, 80.0};
}

std::string rendered(std::string_view text, std::uint64_t stream = 7) {
    auto compiled = PayloadTemplate::compile(text);
    if (const auto* problem = std::get_if<std::string>(&compiled)) {
        ADD_FAILURE() << *problem;
        return {};
    }
    std::string out;
    std::get<PayloadTemplate>(compiled).render(template_reading(), stream, out);
    return out;
}

std::string template_problem(std::string_view text) {
    auto compiled = PayloadTemplate::compile(text);
    const auto* problem = std::get_if<std::string>(&compiled);
    return problem != nullptr ? *problem : std::string("(compiled)");
}

TEST(PayloadTemplate, FillsTheReadingsIdsTimeAndValues) {
    EXPECT_EQ(rendered(R"({"id":"${device}","run":"${run}","n":${seq},"t":${ts},"ms":${ts_ms},)"
                       R"("temp":${temp},"hum":${hum},"pres":${pres},"batt":${batt}})"),
              R"({"id":"sensor-0001","run":"run-1","n":42,"t":1764102213123456,)"
              R"("ms":1764102213123,"temp":-3.50,"hum":45.25,"pres":1013.00,"batt":80.00})");
}

TEST(PayloadTemplate, TextWithoutFieldsAndLiteralMarksStayAsWritten) {
    EXPECT_EQ(rendered("plain {json} $5 and $${not a field}"),
              "plain {json} $5 and ${not a field}");
}

TEST(PayloadTemplate, RandomFieldsStayInTheirRangeAndFollowTheStream) {
    std::set<std::string> dice;
    for (std::uint64_t stream = 0; stream < 200; ++stream) {
        const std::string d = rendered("${rand_int:1:6}", stream);
        ASSERT_GE(std::stoi(d), 1);
        ASSERT_LE(std::stoi(d), 6);
        dice.insert(d);
        const double f = std::stod(rendered("${rand_float:-2.5:2.5}", stream));
        ASSERT_GE(f, -2.5);
        ASSERT_LE(f, 2.5);
        EXPECT_EQ(rendered("${rand_hex:12}", stream).size(), 12u);
    }
    EXPECT_EQ(dice.size(), 6u) << "every face comes up";
    EXPECT_EQ(rendered("${rand_int} ${rand_float}", 3), rendered("${rand_int} ${rand_float}", 3));
    EXPECT_NE(rendered("${rand_hex:16}", 3), rendered("${rand_hex:16}", 4));
}

TEST(PayloadTemplate, EachProblemIsNamed) {
    EXPECT_NE(template_problem("${tmp}").find("unknown field ${tmp}"), std::string::npos);
    EXPECT_NE(template_problem("a ${temp").find("not closed"), std::string::npos);
    EXPECT_NE(template_problem("${rand_int:5:1}").find("A <= B"), std::string::npos);
    EXPECT_NE(template_problem("${rand_int:1.5:3}").find("whole numbers"), std::string::npos);
    EXPECT_NE(template_problem("${rand_hex:0}").find("1-4096"), std::string::npos);
    EXPECT_NE(template_problem("").find("empty"), std::string::npos);
}

}  // namespace
}  // namespace telemetry

// Installs like a tool: `cmake --install` into a staging prefix gives programs that run a
// verified pair, man pages and bash completion that hold every flag of each program's --help,
// and example configurations; the Debian package (scripts/package, run by scripts/test before
// the tests) is lintian clean, depends on the libraries the programs link, and its programs run.

#include <unistd.h>

#include <fstream>
#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "pair.hpp"

namespace harness {
namespace {

const std::vector<std::string> kPrograms{"mqtt_publisher", "mqtt_subscriber", "mqtt_commander",
                                         "mqtt_report"};

// Every flag of a program's --help: the option lines' first word, "-h,--host" split at commas.
std::set<std::string> help_flags(const std::string& program, const fs::path& dir) {
    const RunResult help = run({program, "--help"}, dir, 30s);
    EXPECT_EQ(help.status, 0) << help.err;
    std::set<std::string> flags;
    const std::regex option("(^|\n)  (-[^ \n{]+)");
    for (auto it = std::sregex_iterator(help.out.begin(), help.out.end(), option);
         it != std::sregex_iterator(); ++it) {
        std::stringstream spec((*it)[2]);
        for (std::string flag; std::getline(spec, flag, ',');) flags.insert(flag);
    }
    return flags;
}

// The man page's roff source, with "\-" (a roff hyphen) as "-".
std::string man_source(const fs::path& page, const fs::path& dir) {
    const RunResult text = run({"/bin/sh", "-c", "gzip -dc '" + page.string() + "'"}, dir, 30s);
    EXPECT_EQ(text.status, 0) << text.err;
    return std::regex_replace(text.out, std::regex("\\\\-"), "-");
}

// What bash completes for `words` (the last is the word being completed) with the completion.
std::string complete(const fs::path& completion, const std::string& words, const fs::path& dir) {
    const std::string script = "source '" + completion.string() + "'; COMP_WORDS=(" + words +
                               "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
                               "_${COMP_WORDS[0]}; echo \"${COMPREPLY[*]}\"";
    return run({"/bin/bash", "-c", script}, dir, 30s).out;
}

class Installed : public ::testing::Test {
  protected:
    void SetUp() override {
        const RunResult install = run(
            {"cmake", "--install", PROJECT_BINARY_DIR_PATH, "--prefix", (dir_ / "stage").string()},
            dir_.path(), 120s);
        ASSERT_EQ(install.status, 0) << install.out << install.err;
    }
    fs::path stage(const std::string& path) const { return dir_ / "stage" / path; }

    TempDir dir_;
};

TEST_F(Installed, ProgramsManPagesCompletionAndExamplesAreWhereUsersLook) {
    for (const std::string& p : kPrograms) {
        EXPECT_EQ(::access(stage("bin/" + p).c_str(), X_OK), 0) << p;
        EXPECT_TRUE(fs::exists(stage("share/man/man1/" + p + ".1.gz")))
            << p << ": no man page (help2man missing? run scripts/deps --test)";
        EXPECT_TRUE(fs::exists(stage("share/bash-completion/completions/" + p))) << p;
    }
    for (const std::string example : {"mosquitto.conf", "prometheus.yml", "mqtt-telemetry.json",
                                      "home.toml", "factory.toml", "transports.toml"})
        EXPECT_TRUE(fs::exists(stage("share/doc/mqtt-telemetry/examples/" + example))) << example;
    EXPECT_TRUE(fs::exists(stage("share/doc/mqtt-telemetry/copyright")));
    EXPECT_TRUE(fs::exists(stage("share/mqtt-telemetry/reading.proto")));
}

TEST_F(Installed, InstalledProgramsRunAVerifiedPair) {
    Broker broker;
    const RunResult version = run({stage("bin/mqtt_publisher").string(), "--version"}, dir_.path());
    EXPECT_EQ(version.out, "mqtt_publisher " + std::string(PROJECT_VERSION_TEXT) + "\n");
    auto sub = std::make_unique<ChildProcess>(
        std::vector<std::string>{stage("bin/mqtt_subscriber").string(), "-p", broker.port_str(),
                                 "--report", (dir_ / "sub.json").string()},
        dir_ / "sub.out", dir_ / "sub.err");
    ASSERT_TRUE(wait_for_text(dir_ / "sub.err", "(ready)", 20s)) << read_file(dir_ / "sub.err");
    const RunResult pub =
        run({stage("bin/mqtt_publisher").string(), "-p", broker.port_str(), "-n", "3000", "-Q"},
            dir_.path());
    EXPECT_EQ(pub.status, 0) << pub.err;
    EXPECT_EQ(sub->wait(60s), 0) << read_file(dir_ / "sub.err");
    EXPECT_EQ(read_json(dir_ / "sub.json").at("unique"), 3000);
}

TEST_F(Installed, EveryHelpFlagIsInTheManPageAndTheCompletion) {
    for (const std::string& p : kPrograms) {
        const std::set<std::string> flags = help_flags(stage("bin/" + p).string(), dir_.path());
        ASSERT_GE(flags.size(), p == "mqtt_report" ? 3U : 30U) << p;
        const std::string man = man_source(stage("share/man/man1/" + p + ".1.gz"), dir_.path());
        const std::string completion = read_file(stage("share/bash-completion/completions/" + p));
        for (const std::string& flag : flags) {
            const std::regex word("(^|[^-a-z0-9])" + flag + "($|[^-a-z0-9])");
            EXPECT_TRUE(std::regex_search(man, word))
                << p << ": " << flag << " not in the man page";
            EXPECT_TRUE(std::regex_search(completion, word))
                << p << ": " << flag << " not in the completion";
        }
    }
}

TEST_F(Installed, BashCompletesFlagsAndTheirChoices) {
    const fs::path completion = stage("share/bash-completion/completions/mqtt_subscriber");
    EXPECT_EQ(complete(completion, "mqtt_subscriber --metrics-p", dir_.path()), "--metrics-port\n");
    EXPECT_EQ(complete(completion, "mqtt_subscriber --client ''", dir_.path()),
              "native libmosquitto\n");
    EXPECT_EQ(complete(completion, "mqtt_subscriber -V 3", dir_.path()), "311\n");
}

// The .deb that scripts/package built (scripts/test runs it before the tests).
fs::path built_package() {
    for (const auto& entry : fs::directory_iterator(project_dir() / "build/package",
                                                    fs::directory_options::skip_permission_denied))
        if (entry.path().extension() == ".deb") return entry.path();
    return {};
}

class Package : public ::testing::Test {
  protected:
    void SetUp() override {
        std::error_code ec;
        if (fs::exists(project_dir() / "build/package", ec)) deb_ = built_package();
        ASSERT_FALSE(deb_.empty()) << "no .deb in build/package: run scripts/package";
    }
    fs::path deb_;
    TempDir dir_;
};

TEST_F(Package, IsLintianCleanAndDependsOnTheLibrariesTheProgramsLink) {
    const RunResult lintian =
        run({"lintian", "--allow-root", "--fail-on", "warning,error", deb_.string()}, dir_.path(),
            300s);
    EXPECT_EQ(lintian.status, 0) << lintian.out << lintian.err;
    const RunResult depends = run({"dpkg-deb", "-f", deb_.string(), "Depends"}, dir_.path());
    for (const std::string lib :
         {"libmosquitto1", "libssl3", "libc-ares2", "libsqlite3-0", "libpq5", "libfmt9",
          "libtomlplusplus3", "libprotobuf-lite32", "libwslay1"})
        EXPECT_NE(depends.out.find(lib), std::string::npos) << lib << " missing: " << depends.out;
    EXPECT_EQ(run({"dpkg-deb", "-f", deb_.string(), "Recommends"}, dir_.path()).out,
              "mosquitto, bash-completion\n");
    // apt would install it: every dependency resolves on this system.
    const RunResult apt =
        run({"apt-get", "install", "--simulate", "-q", deb_.string()}, dir_.path(), 120s);
    EXPECT_EQ(apt.status, 0) << apt.out << apt.err;
}

TEST_F(Package, ItsProgramsRunAVerifiedPair) {
    ASSERT_EQ(run({"dpkg-deb", "-x", deb_.string(), (dir_ / "root").string()}, dir_.path()).status,
              0);
    const std::string bin = (dir_ / "root/usr/bin/").string();
    Broker broker;
    auto sub = std::make_unique<ChildProcess>(
        std::vector<std::string>{bin + "mqtt_subscriber", "-p", broker.port_str(), "--report",
                                 (dir_ / "sub.json").string()},
        dir_ / "sub.out", dir_ / "sub.err");
    ASSERT_TRUE(wait_for_text(dir_ / "sub.err", "(ready)", 20s)) << read_file(dir_ / "sub.err");
    const RunResult pub =
        run({bin + "mqtt_publisher", "-p", broker.port_str(), "-n", "3000", "-Q"}, dir_.path());
    EXPECT_EQ(pub.status, 0) << pub.err;
    EXPECT_EQ(sub->wait(60s), 0) << read_file(dir_ / "sub.err");
    EXPECT_EQ(read_json(dir_ / "sub.json").at("verified"), true);
}

// README's by-hand block, pasted whole into bash, verifies: its waits (the broker's log says
// running, the subscriber's "(ready)") stand between the steps. The test runs the block as
// written but for the build line, on a free port, with the built programs and 20,000 messages.
TEST(Readme, TheByHandBlockVerifiesWhenPastedWhole) {
    const std::string readme = read_file(project_dir() / "README.md");
    const auto start = readme.find("```bash\n", readme.find("## Run the three processes by hand"));
    ASSERT_NE(start, std::string::npos) << "README has no by-hand bash block";
    const auto body = start + 8;
    std::string block = readme.substr(body, readme.find("```", body) - body);
    block = block.substr(block.find('\n') + 1);  // the build line: the test has built
    TempDir dir;
    const std::string port = std::to_string(free_port());
    const auto replace_all = [&block](const std::string& from, const std::string& to) {
        std::size_t n = 0;
        for (auto at = block.find(from); at != std::string::npos; at = block.find(from, at)) {
            block.replace(at, from.size(), to);
            at += to.size();
            ++n;
        }
        return n;
    };
    EXPECT_GT(replace_all("1884", port), 2u);
    EXPECT_EQ(replace_all("bin=build/release/src",
                          "bin=" + fs::path(publisher_path()).parent_path().string()),
              1u);
    EXPECT_EQ(replace_all("run=run/by-hand", "run=" + (dir / "run").string()), 1u);
    EXPECT_EQ(
        replace_all("$bin/mqtt_publisher -p " + port, "$bin/mqtt_publisher -n 20000 -p " + port),
        1u);
    std::ofstream(dir / "by-hand.sh") << block;
    const RunResult r =
        run({"/bin/bash", "-c",
             "cd '" + project_dir().string() + "' && . '" + (dir / "by-hand.sh").string() + "'"},
            dir.path(), 120s);
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("mqtt_subscriber: VERIFIED: received 20000"), std::string::npos)
        << r.out << r.err;
    EXPECT_NE(r.out.find("subscriber exit 0"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace harness

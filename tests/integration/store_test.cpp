// --store sqlite:FILE end to end: the database holds every verified reading exactly once, also
// when the subscriber is killed mid-run and started again (its unacknowledged batch comes
// again from the broker; what it acknowledged was committed first).

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

#include "pair.hpp"
#include "sqlite_query.hpp"

namespace harness {
namespace {

using testing_support::sqlite_query;

TEST(Store, SqliteHoldsEveryVerifiedReadingOnce) {
    Broker broker;
    TempDir dir;
    const fs::path db = dir / "readings.db";
    const auto r =
        run_pair(broker, dir, {"-n", "5000", "-d", "10"}, {"--store", "sqlite:" + db.string()});
    expect_verified(r, 5000);
    EXPECT_EQ(sqlite_query(db, "SELECT COUNT(*) FROM readings"), 5000);
    EXPECT_EQ(sqlite_query(db, "SELECT COUNT(DISTINCT device) FROM readings"), 10);
    EXPECT_EQ(sqlite_query(db, "SELECT MAX(seq) FROM readings"), 500);
    EXPECT_EQ(sqlite_query(db, "SELECT COUNT(*) FROM readings WHERE received_us < sent_us"), 0);
    EXPECT_EQ(r.subscriber.at("store").at("stored"), 5000);
    EXPECT_EQ(r.subscriber.at("store").at("duplicates_ignored"), 0);
}

TEST(Store, ASecondRunUnderTheSameRunIdWithOtherValuesIsKeptBesideAndNotVerified) {
    // Two publishers under one run id, one after the other: each subscriber's own ledger sees
    // one clean run; only the store can tell that the second one's values differ.
    Broker broker;
    TempDir dir;
    const fs::path db = dir / "readings.db";
    const std::vector<std::string> sub{"--store", "sqlite:" + db.string()};
    expect_verified(run_pair(broker, dir, {"-n", "2000", "--run-id", "twin", "--seed", "1"}, sub),
                    2000);
    TempDir again;
    const auto r = run_pair(broker, again, {"-n", "2000", "--run-id", "twin", "--seed", "2"}, sub);
    EXPECT_EQ(r.subscriber_status, 1) << r.subscriber_out;
    EXPECT_NE(r.subscriber_out.find("2000 readings differ from the stored reading"),
              std::string::npos)
        << r.subscriber_out;
    EXPECT_EQ(r.subscriber.at("store").at("conflicting_kept"), 2000);
    EXPECT_EQ(sqlite_query(db, "SELECT COUNT(*) FROM readings"), 2000);
    EXPECT_EQ(sqlite_query(db, "SELECT COUNT(*) FROM conflicting_readings"), 2000);
}

// Bodies without sensor values: the envelope's fields as columns, the body as a BLOB; a
// packed binary reading is a reading like a JSON one.
TEST(Store, RawBodiesAreBlobsBesideTheEnvelopesFieldsAndBinaryReadingsAreReadings) {
    Broker broker;
    TempDir dir;
    const fs::path db = dir / "readings.db";
    const std::vector<std::string> sub{"--store", "sqlite:" + db.string()};
    const std::vector<std::string> random{
        "-n",     "2000",           "-d", "10", "--run-id", "raw", "--payload-format",
        "random", "--payload-size", "1k"};
    expect_verified(run_pair(broker, dir, random, sub), 2000);
    TempDir binary;
    expect_verified(
        run_pair(broker, binary, {"-n", "1000", "--run-id", "packed", "--payload-format", "binary"},
                 sub),
        1000);
    EXPECT_EQ(sqlite_query(db, "SELECT COUNT(*) FROM raw_messages WHERE run = 'raw'"), 2000);
    // 1,024 less the envelope's 30 bytes and its ids ("raw", "sensor-0001").
    EXPECT_EQ(sqlite_query(db, "SELECT COUNT(*) FROM raw_messages WHERE length(body) = 980"), 2000);
    EXPECT_EQ(sqlite_query(db,
                           "SELECT COUNT(*) FROM readings WHERE run = 'packed' AND "
                           "pressure_hpa > 900"),
              1000);
    // The reading as protobuf, CBOR and MessagePack: readings with their values, like JSON.
    for (const std::string format : {"protobuf", "cbor", "msgpack"}) {
        TempDir encoded;
        expect_verified(run_pair(broker, encoded,
                                 {"-n", "500", "--run-id", format, "--payload-format", format,
                                  "--payload-size", "300"},
                                 sub),
                        500);
        EXPECT_EQ(sqlite_query(db, "SELECT COUNT(*) FROM readings WHERE run = '" + format +
                                       "' AND pressure_hpa > 900"),
                  500)
            << format;
    }
    // The same run id with another seed: other random bytes under the same keys.
    TempDir again;
    auto forged = random;
    forged.insert(forged.end(), {"--seed", "2"});
    const auto r = run_pair(broker, again, forged, sub);
    EXPECT_EQ(r.subscriber_status, 1) << r.subscriber_out;
    EXPECT_EQ(sqlite_query(db, "SELECT COUNT(*) FROM conflicting_raw_messages"), 2000);
    EXPECT_EQ(sqlite_query(db, "SELECT COUNT(*) FROM raw_messages"), 2000);
    // A template's body follows the send time: a second run under its run id (a resumed
    // publisher, as far as the store can tell) is stored once, never a conflict.
    const std::vector<std::string> templ{
        "-n",         "500",        "--run-id",           "tmpl",
        "--envelope", "properties", "--payload-template", R"({"t":${temp},"at":${ts}})"};
    for (int i = 0; i < 2; ++i) {
        TempDir each;
        expect_verified(run_pair(broker, each, templ, sub), 500);
    }
    EXPECT_EQ(sqlite_query(db,
                           "SELECT COUNT(*) FROM raw_messages WHERE run = 'tmpl' AND "
                           "CAST(body AS TEXT) LIKE '{\"t\":%'"),
              500);
    EXPECT_EQ(sqlite_query(db, "SELECT COUNT(*) FROM conflicting_raw_messages"), 2000);
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
    EXPECT_EQ(sqlite_query(db, "SELECT COUNT(*) FROM readings"), 20000);
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
    EXPECT_NE(wrong.err.find("--store must be sqlite:FILE or postgresql://"), std::string::npos)
        << wrong.err;
}

// A throwaway PostgreSQL server: initdb into a temporary folder, postgres on a free loopback
// port, stopped by PID. PostgreSQL refuses to run as root, so as root it runs as the
// `postgres` user that Debian's package creates.
class PostgresServer {
  public:
    // The bin folder of Debian's PostgreSQL (/usr/lib/postgresql/<version>/bin), if installed.
    static std::optional<fs::path> bin_dir() {
        const fs::path base = "/usr/lib/postgresql";
        if (!fs::exists(base)) return std::nullopt;
        for (const auto& version : fs::directory_iterator(base))
            if (fs::exists(version.path() / "bin" / "initdb")) return version.path() / "bin";
        return std::nullopt;
    }

    explicit PostgresServer(const fs::path& bin) : port_(free_port()) {
        const fs::path data = dir_ / "pgdata";
        fs::create_directory(data);
        std::vector<std::string> as_user;
        if (::getuid() == 0) {
            const passwd* pg = ::getpwnam("postgres");
            if (pg == nullptr) throw std::runtime_error("no postgres user to run PostgreSQL as");
            ::chmod(dir_.path().c_str(), 0755);
            if (::chown(data.c_str(), pg->pw_uid, pg->pw_gid) != 0)
                throw std::runtime_error("cannot hand " + data.string() + " to postgres");
            as_user = {"setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--"};
        }
        auto command = [&](std::vector<std::string> args) {
            args.insert(args.begin(), as_user.begin(), as_user.end());
            return args;
        };
        const auto init = run(command({(bin / "initdb").string(), "-D", data.string(), "-U",
                                       "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"}),
                              dir_.path(), 120s);
        if (init.status != 0) throw std::runtime_error("initdb failed: " + init.err);
        server_.emplace(
            command({(bin / "postgres").string(), "-D", data.string(), "-p", std::to_string(port_),
                     "-k", data.string(), "-c", "listen_addresses=127.0.0.1"}),
            dir_ / "postgres.out", dir_ / "postgres.err");
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (!accepts_queries()) {
            if (!server_->running() || std::chrono::steady_clock::now() > deadline)
                throw std::runtime_error("postgres did not start: " +
                                         read_file(dir_ / "postgres.err"));
            std::this_thread::sleep_for(100ms);
        }
    }
    ~PostgresServer() {
        if (server_ && server_->running()) {
            server_->signal(SIGINT);  // fast shutdown
            server_->wait(30s);
        }
    }
    PostgresServer(const PostgresServer&) = delete;  // owns the server process
    PostgresServer& operator=(const PostgresServer&) = delete;

    std::string uri() const {
        return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
    }
    // The single integer answer of `sql`.
    std::int64_t query(const std::string& sql) const {
        PGconn* c = PQconnectdb(uri().c_str());
        std::int64_t value = -1;
        if (PQstatus(c) == CONNECTION_OK) {
            PGresult* r = PQexec(c, sql.c_str());
            if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
                value = std::stoll(PQgetvalue(r, 0, 0));
            else
                ADD_FAILURE() << sql << ": " << PQresultErrorMessage(r);
            PQclear(r);
        }
        PQfinish(c);
        return value;
    }

  private:
    bool accepts_queries() const {
        PGconn* c = PQconnectdb(uri().c_str());
        const bool ok = PQstatus(c) == CONNECTION_OK;
        PQfinish(c);
        return ok;
    }

    TempDir dir_;
    std::uint16_t port_;
    std::optional<ChildProcess> server_;
};

TEST(Store, PostgresqlHoldsEveryVerifiedReadingOnceAndIgnoresRedeliveries) {
    const auto bin = PostgresServer::bin_dir();
    if (!bin) GTEST_SKIP() << "PostgreSQL is not installed (scripts/deps --postgresql installs it)";
    PostgresServer postgres(*bin);
    Broker broker;
    TempDir dir;
    const std::vector<std::string> sub{"--store", postgres.uri()};
    const auto r = run_pair(broker, dir, {"-n", "5000", "-d", "10", "--run-id", "pg-run"}, sub);
    expect_verified(r, 5000);
    EXPECT_EQ(postgres.query("SELECT COUNT(*) FROM readings"), 5000);
    EXPECT_EQ(postgres.query("SELECT COUNT(DISTINCT device) FROM readings WHERE run = 'pg-run'"),
              10);
    EXPECT_EQ(r.subscriber.at("store").at("stored"), 5000);
    // The same run again: every reading is a redelivery, stored once already.
    TempDir again;
    const auto r2 = run_pair(broker, again, {"-n", "5000", "-d", "10", "--run-id", "pg-run"}, sub);
    EXPECT_EQ(r2.subscriber.at("store").at("stored"), 0);
    EXPECT_EQ(r2.subscriber.at("store").at("duplicates_ignored"), 5000);
    EXPECT_EQ(postgres.query("SELECT COUNT(*) FROM readings"), 5000);
    // The same run id with other values: kept beside, and the run is not verified.
    TempDir third;
    const auto r3 = run_pair(broker, third,
                             {"-n", "5000", "-d", "10", "--run-id", "pg-run", "--seed", "99"}, sub);
    EXPECT_EQ(r3.subscriber_status, 1) << r3.subscriber_out;
    EXPECT_EQ(r3.subscriber.at("store").at("conflicting_kept"), 5000);
    EXPECT_EQ(postgres.query("SELECT COUNT(*) FROM conflicting_readings"), 5000);
    // Random bodies of up to 64 KB: raw_messages, each body whole.
    TempDir raw;
    const std::vector<std::string> random{
        "-n",      "300", "--run-id", "pg-raw", "--payload-format", "random", "--payload-size",
        "100..64k"};
    expect_verified(run_pair(broker, raw, random, sub), 300);
    EXPECT_EQ(postgres.query("SELECT COUNT(*) FROM raw_messages WHERE run = 'pg-raw'"), 300);
    EXPECT_GT(postgres.query("SELECT SUM(octet_length(body)) FROM raw_messages"), 300 * 20'000);
    TempDir raw_forged;
    auto forged = random;
    forged.insert(forged.end(), {"--seed", "5"});
    EXPECT_EQ(run_pair(broker, raw_forged, forged, sub).subscriber_status, 1);
    EXPECT_EQ(postgres.query("SELECT COUNT(*) FROM conflicting_raw_messages"), 300);
}

TEST(Store, AnUnreachablePostgresqlIsAUsageErrorNamingIt) {
    TempDir dir;
    const std::string port = std::to_string(free_port());
    const auto r = run({subscriber_path(), "-p", "1", "--store",
                        "postgresql://someone:secret-pw@127.0.0.1:" + port + "/telemetry"},
                       dir.path());
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("postgresql 127.0.0.1:" + port + "/telemetry: cannot connect"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("secret-pw"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace harness

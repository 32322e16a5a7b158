#include "store/postgres_store.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <utility>

namespace store {
namespace {

constexpr std::uint64_t kRowsPerInsert = 1000;
constexpr const char* kColumns =
    "(run, device, seq, sent_us, received_us, temperature_c, humidity_pct, pressure_hpa, "
    "battery_pct)";
// What a conflict is: the values content_digest() covers that the table holds.
constexpr const char* kDiffers =
    "r.pressure_hpa <> i.pressure_hpa OR r.battery_pct <> i.battery_pct";

// A raw message's INSERT is cut at this many bytes of SQL: a body travels as hex, twice its
// size, and a thousand 256 KB bodies would make one statement of half a gigabyte.
constexpr std::size_t kRawBytesPerInsert = std::size_t{8} << 20;

// bytea's hex input format, after its \x.
void append_hex(std::string& out, std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    const std::size_t from = out.size();
    out.resize(from + 2 * bytes.size());
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const auto b = static_cast<unsigned char>(bytes[i]);
        out[from + 2 * i] = kDigits[b >> 4];
        out[from + 2 * i + 1] = kDigits[b & 15];
    }
}

// libpq's message without its trailing newline.
std::string first_line(const char* message) {
    std::string text = message != nullptr ? message : "";
    const auto end = text.find('\n');
    return end == std::string::npos ? text : text.substr(0, end);
}

}  // namespace

PostgresStore::PostgresStore(const std::string& uri) : conn_(PQconnectdb(uri.c_str())) {
    if (conn_ == nullptr) throw StoreError("postgresql store: out of memory");
    where_ = fmt::format("{}:{}/{}", PQhost(conn_) ? PQhost(conn_) : "?",
                         PQport(conn_) ? PQport(conn_) : "?", PQdb(conn_) ? PQdb(conn_) : "?");
    if (PQstatus(conn_) != CONNECTION_OK) {
        const std::string why = first_line(PQerrorMessage(conn_));
        PQfinish(conn_);
        throw StoreError("postgresql " + where_ + ": cannot connect: " + why);
    }
    try {
        execute(
            "CREATE TABLE IF NOT EXISTS readings ("
            " run TEXT NOT NULL, device TEXT NOT NULL, seq BIGINT NOT NULL,"
            " sent_us BIGINT NOT NULL, received_us BIGINT NOT NULL,"
            " temperature_c DOUBLE PRECISION NOT NULL, humidity_pct DOUBLE PRECISION NOT NULL,"
            " pressure_hpa DOUBLE PRECISION NOT NULL, battery_pct DOUBLE PRECISION NOT NULL,"
            " PRIMARY KEY (run, device, seq))",
            "cannot create the table");
        execute(
            "CREATE TABLE IF NOT EXISTS conflicting_readings ("
            " run TEXT NOT NULL, device TEXT NOT NULL, seq BIGINT NOT NULL,"
            " sent_us BIGINT NOT NULL, received_us BIGINT NOT NULL,"
            " temperature_c DOUBLE PRECISION NOT NULL, humidity_pct DOUBLE PRECISION NOT NULL,"
            " pressure_hpa DOUBLE PRECISION NOT NULL, battery_pct DOUBLE PRECISION NOT NULL)",
            "cannot create the table");
        // Messages without sensor values (store/sqlite_store.hpp says the same of SQLite's).
        execute(
            "CREATE TABLE IF NOT EXISTS raw_messages ("
            " run TEXT NOT NULL, device TEXT NOT NULL, seq BIGINT NOT NULL,"
            " sent_us BIGINT NOT NULL, received_us BIGINT NOT NULL, body BYTEA NOT NULL,"
            " PRIMARY KEY (run, device, seq))",
            "cannot create the table");
        execute(
            "CREATE TABLE IF NOT EXISTS conflicting_raw_messages ("
            " run TEXT NOT NULL, device TEXT NOT NULL, seq BIGINT NOT NULL,"
            " sent_us BIGINT NOT NULL, received_us BIGINT NOT NULL, body BYTEA NOT NULL)",
            "cannot create the table");
    } catch (...) {
        PQfinish(conn_);
        throw;
    }
}

PostgresStore::~PostgresStore() {
    // An uncommitted batch was never acknowledged: closing the connection rolls it back.
    PQfinish(conn_);
}

std::uint64_t PostgresStore::execute(const std::string& sql, const char* doing) {
    PGresult* result = PQexec(conn_, sql.c_str());
    const ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        const std::string why = first_line(PQresultErrorMessage(result));
        PQclear(result);
        throw StoreError("postgresql " + where_ + ": " + doing + ": " + why);
    }
    const char* changed = PQcmdTuples(result);
    const std::uint64_t rows =
        changed != nullptr && *changed != '\0' ? std::strtoull(changed, nullptr, 10) : 0;
    PQclear(result);
    return rows;
}

void PostgresStore::accept(const telemetry::Delivery& d) {
    if (!d.decoded.reading) return;
    const telemetry::Reading& r = *d.decoded.reading;
    if (!in_transaction_) {
        execute("BEGIN", "cannot begin a transaction");
        in_transaction_ = true;
    }
    if (!d.decoded.has_values) return accept_raw(d);
    if (rows_in_insert_ == kRowsPerInsert) flush_rows();
    if (rows_in_insert_ > 0) values_ += ',';
    // The decoder admits only [A-Za-z0-9._-] in run and device ids (is_plain_identifier) and
    // finite numbers in range, so the values need no escaping.
    fmt::format_to(std::back_inserter(values_), "('{}','{}',{},{},{},{},{},{},{})", r.run, r.device,
                   r.seq, r.ts_us, d.arrived_epoch_us, r.temperature_c, r.humidity_pct,
                   r.pressure_hpa, r.battery_pct);
    ++rows_in_insert_;
}

void PostgresStore::accept_raw(const telemetry::Delivery& d) {
    if (raw_rows_ == kRowsPerInsert || raw_values_.size() >= kRawBytesPerInsert) flush_raw_rows();
    if (raw_rows_ > 0) raw_values_ += ',';
    const telemetry::Reading& r = *d.decoded.reading;
    fmt::format_to(std::back_inserter(raw_values_),
                   "('{}','{}',{}::bigint,{}::bigint,{}::bigint,'\\x", r.run, r.device, r.seq,
                   r.ts_us, d.arrived_epoch_us);
    append_hex(raw_values_, d.decoded.body);
    // Whether another body under the key is a conflict: not for a varying one (a template).
    raw_values_ += d.decoded.content == 0 ? "'::bytea,false)" : "'::bytea,true)";
    ++raw_rows_;
}

void PostgresStore::flush_raw_rows() {
    if (raw_rows_ == 0) return;
    constexpr const char* kRawRows =
        "(VALUES {}) AS i (run, device, seq, sent_us, received_us, body, checked)";
    const std::string rows = fmt::format(fmt::runtime(kRawRows), raw_values_);
    const std::uint64_t inserted =
        execute(fmt::format("INSERT INTO raw_messages SELECT run, device, seq, sent_us, "
                            "received_us, body FROM {} ON CONFLICT DO NOTHING",
                            rows),
                "cannot insert raw messages");
    std::uint64_t conflicting = 0;
    if (inserted < raw_rows_)
        conflicting = execute(
            fmt::format("INSERT INTO conflicting_raw_messages SELECT i.run, i.device, i.seq, "
                        "i.sent_us, i.received_us, i.body FROM {} JOIN raw_messages r USING "
                        "(run, device, seq) WHERE i.checked AND r.body <> i.body",
                        rows),
            "cannot keep conflicting raw messages");
    pending(std::exchange(raw_rows_, 0), inserted, conflicting);
    raw_values_.clear();
}

void PostgresStore::flush_rows() {
    if (rows_in_insert_ == 0) return;
    const std::uint64_t inserted =
        execute(fmt::format("INSERT INTO readings VALUES {} ON CONFLICT DO NOTHING", values_),
                "cannot insert readings");
    std::uint64_t conflicting = 0;
    // Rows the key turned away: a redelivery is stored once, other values are kept beside it.
    // The rows inserted above are visible here, so a conflict inside one INSERT counts too.
    if (inserted < rows_in_insert_)
        conflicting = execute(fmt::format("INSERT INTO conflicting_readings SELECT i.* FROM "
                                          "(VALUES {}) AS i {} JOIN readings r USING "
                                          "(run, device, seq) WHERE {}",
                                          values_, kColumns, kDiffers),
                              "cannot keep conflicting readings");
    pending(std::exchange(rows_in_insert_, 0), inserted, conflicting);
    values_.clear();
}

void PostgresStore::batch_end() {
    if (!in_transaction_) return;
    flush_rows();
    flush_raw_rows();
    in_transaction_ = false;
    execute("COMMIT", "cannot commit");
    committed();
}

}  // namespace store

#include "store/reading_store.hpp"

#include "store/postgres_store.hpp"
#include "store/sqlite_store.hpp"

namespace store {
namespace {

constexpr std::string_view kSqlite = "sqlite:";

bool is_postgresql(const std::string& spec) {
    return spec.rfind("postgresql://", 0) == 0 || spec.rfind("postgres://", 0) == 0;
}

}  // namespace

nlohmann::json ReadingStore::summary() const {
    nlohmann::json s = where();
    s["stored"] = stored_;
    s["duplicates_ignored"] = duplicates_;
    s["conflicting_kept"] = conflicts_;
    return s;
}

std::vector<std::string> ReadingStore::problems() const {
    if (conflicts_ == 0) return {};
    return {std::to_string(conflicts_) +
            " readings differ from the stored reading with the same run, device and seq "
            "(both kept: table conflicting_readings)"};
}

void ReadingStore::committed() {
    stored_ += batch_inserted_;
    conflicts_ += batch_conflicts_;
    duplicates_ += batch_rows_ - batch_inserted_ - batch_conflicts_;
    batch_rows_ = batch_inserted_ = batch_conflicts_ = 0;
}

std::optional<std::string> check_store_spec(const std::string& spec) {
    if (spec.rfind(kSqlite, 0) == 0)
        return spec.size() > kSqlite.size()
                   ? std::nullopt
                   : std::optional<std::string>("--store sqlite: needs a file name");
    if (is_postgresql(spec)) return std::nullopt;
    return "--store must be sqlite:FILE or postgresql://[user@]host[:port]/database, not '" + spec +
           "'";
}

std::unique_ptr<ReadingStore> open_store(const std::string& spec) {
    if (is_postgresql(spec)) return std::make_unique<PostgresStore>(spec);
    return std::make_unique<SqliteStore>(spec.substr(kSqlite.size()));
}

}  // namespace store

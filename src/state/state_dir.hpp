#pragma once
// A directory that keeps a program's state across its own crash (kill -9): a snapshot written
// atomically (temporary file, fsync, rename, fsync of the directory) and a journal of what
// happened since, appended and made durable with one fdatasync per commit. The snapshot names
// its journal by generation, so a crash between writing a snapshot and starting the next
// journal never replays a fact twice. A lock file keeps a second process out.

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/socket.hpp"

namespace state {

// A state directory that cannot be used: names the directory and what failed.
class StateError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class StateDir {
  public:
    // Opens `dir` (creating it) and locks it. Throws StateError, also when another process
    // holds the lock.
    explicit StateDir(std::filesystem::path dir);
    StateDir(const StateDir&) = delete;  // owns the lock and the journal
    StateDir& operator=(const StateDir&) = delete;

    const std::filesystem::path& path() const { return dir_; }
    // The last snapshot written, or null when there is none.
    const nlohmann::json& snapshot() const { return snapshot_; }
    // The complete lines of the current journal (a torn last line from a crash is dropped).
    std::vector<std::string> journal_lines() const;

    // Appends to the journal; durable after the next commit().
    void append(std::string_view line_with_newline) { pending_.append(line_with_newline); }
    // Writes what was appended and makes it durable (one fdatasync).
    void commit();
    std::uint64_t journal_bytes() const { return journal_bytes_ + pending_.size(); }
    // Replaces the snapshot and starts an empty journal; what was appended but not committed
    // is dropped (the snapshot must include it).
    void write_snapshot(nlohmann::json snapshot);

  private:
    std::filesystem::path journal_path(std::uint64_t generation) const;
    void open_journal(bool truncate);
    [[noreturn]] void fail(const std::string& what) const;

    std::filesystem::path dir_;
    net::FileDescriptor lock_;
    net::FileDescriptor journal_;
    nlohmann::json snapshot_;
    std::uint64_t generation_{0};
    std::uint64_t journal_bytes_{0};
    std::string pending_;
};

// Journal fields are separated by tabs, records by newlines: these escape both (and '%').
std::string escape_field(std::string_view field);
std::string unescape_field(std::string_view field);
std::vector<std::string_view> split_fields(std::string_view line);

}  // namespace state

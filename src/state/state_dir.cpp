#include "state/state_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace state {
namespace {

constexpr const char* kSnapshotFile = "state.json";
constexpr const char* kLockFile = "lock";

std::string errno_text() {
    return std::strerror(errno);
}

void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::system_error(errno, std::generic_category());
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

}  // namespace

StateDir::StateDir(std::filesystem::path dir) : dir_(std::move(dir)) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) fail("cannot create the directory: " + ec.message());
    lock_ =
        net::FileDescriptor(::open((dir_ / kLockFile).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!lock_) fail("cannot open its lock file: " + errno_text());
    if (::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0)
        fail(errno == EWOULDBLOCK ? "in use by another process" : "cannot lock: " + errno_text());
    if (std::filesystem::exists(dir_ / kSnapshotFile)) {
        try {
            snapshot_ = nlohmann::json::parse(read_file(dir_ / kSnapshotFile));
            generation_ = snapshot_.at("generation").get<std::uint64_t>();
        } catch (const nlohmann::json::exception& e) {
            fail(std::string("damaged ") + kSnapshotFile + ": " + e.what());
        }
    }
    // Journals of older generations are covered by the snapshot: a crash left them behind.
    for (const auto& entry : std::filesystem::directory_iterator(dir_, ec))
        if (entry.path().filename().string().starts_with("journal-") &&
            entry.path() != journal_path(generation_))
            std::filesystem::remove(entry.path(), ec);
    open_journal(false);
}

std::filesystem::path StateDir::journal_path(std::uint64_t generation) const {
    return dir_ / ("journal-" + std::to_string(generation));
}

void StateDir::open_journal(bool truncate) {
    const int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0);
    journal_ = net::FileDescriptor(::open(journal_path(generation_).c_str(), flags, 0644));
    if (!journal_) fail("cannot open the journal: " + errno_text());
    struct stat st {};
    if (::fstat(journal_.get(), &st) != 0) fail("cannot read the journal: " + errno_text());
    // A torn last line (the process died inside a write) would glue onto the next record.
    const std::string content = truncate ? std::string() : read_file(journal_path(generation_));
    const std::size_t whole = content.empty() ? 0 : content.rfind('\n') + 1;
    if (whole != static_cast<std::size_t>(st.st_size) &&
        ::ftruncate(journal_.get(), static_cast<off_t>(whole)) != 0)
        fail("cannot repair the journal's torn end: " + errno_text());
    journal_bytes_ = whole;
}

std::vector<std::string> StateDir::journal_lines() const {
    std::vector<std::string> lines;
    std::istringstream in(read_file(journal_path(generation_)));
    for (std::string line; std::getline(in, line);)
        if (!in.eof()) lines.push_back(std::move(line));  // only lines that ended in '\n'
    return lines;
}

void StateDir::commit() {
    if (pending_.empty()) return;
    try {
        write_all(journal_.get(), pending_);
    } catch (const std::system_error& e) {
        fail(std::string("cannot write the journal: ") + e.what());
    }
    if (::fdatasync(journal_.get()) != 0) fail("cannot sync the journal: " + errno_text());
    journal_bytes_ += pending_.size();
    pending_.clear();
}

void StateDir::write_snapshot(nlohmann::json snapshot) {
    snapshot["generation"] = generation_ + 1;
    const std::filesystem::path temporary = dir_ / (std::string(kSnapshotFile) + ".tmp");
    struct RemoveUnlessRenamed {  // a failed snapshot leaves no temporary file behind
        const std::filesystem::path& path;
        bool renamed{false};
        ~RemoveUnlessRenamed() {
            std::error_code ec;
            if (!renamed) std::filesystem::remove(path, ec);
        }
    } cleanup{temporary};
    {
        net::FileDescriptor fd(
            ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!fd) fail("cannot write a snapshot: " + errno_text());
        try {
            write_all(fd.get(), snapshot.dump());
        } catch (const std::system_error& e) {
            fail(std::string("cannot write a snapshot: ") + e.what());
        }
        if (::fsync(fd.get()) != 0) fail("cannot sync a snapshot: " + errno_text());
    }
    if (::rename(temporary.c_str(), (dir_ / kSnapshotFile).c_str()) != 0)
        fail("cannot replace the snapshot: " + errno_text());
    cleanup.renamed = true;
    const net::FileDescriptor dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir || ::fsync(dir.get()) != 0) fail("cannot sync the directory: " + errno_text());
    const std::filesystem::path old_journal = journal_path(generation_);
    ++generation_;
    snapshot_ = std::move(snapshot);
    pending_.clear();
    open_journal(true);
    std::error_code ec;
    std::filesystem::remove(old_journal, ec);
}

void StateDir::fail(const std::string& what) const {
    throw StateError("state directory " + dir_.string() + ": " + what);
}

std::string escape_field(std::string_view field) {
    if (field.find_first_of("%\t\n\r") == std::string_view::npos) return std::string(field);
    std::string out;
    for (const char c : field) {
        switch (c) {
            case '%':
                out += "%25";
                break;
            case '\t':
                out += "%09";
                break;
            case '\n':
                out += "%0A";
                break;
            case '\r':
                out += "%0D";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string unescape_field(std::string_view field) {
    std::string out;
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '%' && i + 2 < field.size()) {
            out += static_cast<char>(std::stoi(std::string(field.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += field[i];
        }
    }
    return out;
}

std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> fields;
    for (;;) {
        const auto tab = line.find('\t');
        fields.push_back(line.substr(0, tab));
        if (tab == std::string_view::npos) return fields;
        line.remove_prefix(tab + 1);
    }
}

}  // namespace state

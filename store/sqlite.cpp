#include "store/sqlite.hpp"

#include <sqlite3.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "core/error.hpp"

namespace assay::sqlite {

namespace {

std::string message_of(sqlite3* db) {
    return db != nullptr ? sqlite3_errmsg(db) : "out of memory";
}

}  // namespace

Database::Database(const std::filesystem::path& path, int flags) : path_(path) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string reason = message_of(db_);
        // SQLite's CANTOPEN text ("unable to open database file") hides the OS reason.
        if (db_ != nullptr && sqlite3_system_errno(db_) != 0) {
            reason += fmt::format(" ({})", std::strerror(sqlite3_system_errno(db_)));
        }
        close();
        throw StoreError(fmt::format("cannot open database '{}': {}", path.string(), reason));
    }
    sqlite3_extended_result_codes(db_, 0);
}

Database::~Database() {
    close();
}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Database& Database::operator=(Database&& other) noexcept {
    if (this != &other) {
        close();
        db_ = std::exchange(other.db_, nullptr);
        path_ = std::move(other.path_);
    }
    return *this;
}

void Database::close() noexcept {
    if (db_ != nullptr) {
        sqlite3_close_v2(db_);
        db_ = nullptr;
    }
}

void Database::exec(const std::string& sql, std::string_view what) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        const std::string msg = err != nullptr ? err : message_of(db_);
        sqlite3_free(err);
        throw StoreError(fmt::format("{}: {}: {}", path_.string(), what, msg));
    }
}

std::int64_t Database::last_insert_rowid() const {
    return sqlite3_last_insert_rowid(db_);
}

std::int64_t Database::changes() const {
    return sqlite3_changes64(db_);
}

int Database::error_code() const {
    return sqlite3_errcode(db_);
}

std::string Database::error_message() const {
    return message_of(db_);
}

void Database::fail(std::string_view what) const {
    throw StoreError(fmt::format("{}: {}: {}", path_.string(), what, message_of(db_)));
}

Statement::Statement(Database& db, std::string_view sql, std::string_view what)
    : db_(db), what_(what) {
    if (sqlite3_prepare_v2(db_.handle(), sql.data(), static_cast<int>(sql.size()), &stmt_,
                           nullptr) != SQLITE_OK) {
        db_.fail(fmt::format("{} (prepare)", what_));
    }
}

Statement::~Statement() {
    sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int index, std::int64_t value) {
    if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) {
        db_.fail(fmt::format("{} (bind {})", what_, index));
    }
    return *this;
}

Statement& Statement::bind(int index, double value) {
    if (sqlite3_bind_double(stmt_, index, value) != SQLITE_OK) {
        db_.fail(fmt::format("{} (bind {})", what_, index));
    }
    return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
    // SQLITE_TRANSIENT: SQLite copies, so temporaries are safe to bind.
    if (sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT,
                            SQLITE_UTF8) != SQLITE_OK) {
        db_.fail(fmt::format("{} (bind {})", what_, index));
    }
    return *this;
}

Statement& Statement::bind_blob(int index, std::span<const unsigned char> bytes) {
    // A null pointer would bind NULL instead of an empty blob.
    static const unsigned char empty = 0;
    const void* data = bytes.empty() ? &empty : bytes.data();
    if (sqlite3_bind_blob64(stmt_, index, data, bytes.size(), SQLITE_TRANSIENT) != SQLITE_OK) {
        db_.fail(fmt::format("{} (bind {})", what_, index));
    }
    return *this;
}

Statement& Statement::bind_null(int index) {
    if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) {
        db_.fail(fmt::format("{} (bind {})", what_, index));
    }
    return *this;
}

bool Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    db_.fail(what_);
}

void Statement::run() {
    while (step()) {
    }
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::get_int64(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

double Statement::get_double(int column) const {
    return sqlite3_column_double(stmt_, column);
}

std::string Statement::get_text(int column) const {
    const unsigned char* text = sqlite3_column_text(stmt_, column);
    if (text == nullptr) {
        return {};
    }
    const int n = sqlite3_column_bytes(stmt_, column);
    return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(n));
}

std::vector<unsigned char> Statement::get_blob(int column) const {
    const void* data = sqlite3_column_blob(stmt_, column);
    const int n = sqlite3_column_bytes(stmt_, column);
    if (data == nullptr || n <= 0) {
        return {};
    }
    const auto* bytes = static_cast<const unsigned char*>(data);
    return std::vector<unsigned char>(bytes, bytes + n);
}

Transaction::Transaction(Database& db) : db_(db) {
    // The busy handler already waits up to the busy timeout; a few more tries with backoff
    // ride out a long writer (e.g. another assay process migrating a new file).
    constexpr int kAttempts = 5;
    auto backoff = std::chrono::milliseconds(50);
    for (int attempt = 1;; ++attempt) {
        const int rc = sqlite3_exec(db_.handle(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
        if (rc == SQLITE_OK) {
            open_ = true;
            return;
        }
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || attempt == kAttempts) {
            db_.fail(fmt::format("begin transaction (attempt {} of {})", attempt, kAttempts));
        }
        std::this_thread::sleep_for(backoff);
        backoff *= 2;
    }
}

Transaction::~Transaction() {
    if (open_) {
        // Nothing useful can be done if ROLLBACK fails: SQLite rolls back on close anyway.
        sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

void Transaction::commit() {
    if (sqlite3_exec(db_.handle(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
        db_.fail("commit transaction");
    }
    open_ = false;
}

}  // namespace assay::sqlite

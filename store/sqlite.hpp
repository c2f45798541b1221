#pragma once
/// A small RAII wrapper over the SQLite C API, private to the store module (never included
/// from a public header). Every failure becomes a StoreError naming the database file, what was
/// being done and SQLite's own message.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace assay::sqlite {

/// An open connection. Move-only; closes the handle on destruction.
class Database {
  public:
    /// Opens `path` with sqlite3_open_v2 `flags` (SQLITE_OPEN_*). Opening is lazy in SQLite:
    /// a garbage file is only detected by the first statement that reads it.
    Database(const std::filesystem::path& path, int flags);
    ~Database();
    Database(Database&& other) noexcept;
    Database& operator=(Database&& other) noexcept;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    sqlite3* handle() const { return db_; }
    const std::filesystem::path& path() const { return path_; }

    /// Runs one or more statements that return no rows we need.
    void exec(const std::string& sql, std::string_view what);
    std::int64_t last_insert_rowid() const;
    /// Rows changed by the most recent INSERT/UPDATE/DELETE.
    std::int64_t changes() const;
    /// The primary result code of the most recent failed call on this connection.
    int error_code() const;
    std::string error_message() const;

    /// Throws StoreError("<path>: <what>: <sqlite errmsg>").
    [[noreturn]] void fail(std::string_view what) const;

  private:
    void close() noexcept;
    sqlite3* db_ = nullptr;
    std::filesystem::path path_;
};

/// A prepared statement. Parameters are 1-based (SQLite's convention), columns 0-based.
class Statement {
  public:
    /// Prepares `sql`; `what` names the operation in error messages ("insert result").
    Statement(Database& db, std::string_view sql, std::string_view what);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    Statement& bind(int index, double value);
    Statement& bind(int index, std::string_view text);
    Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
    Statement& bind(int index, const std::string& text) {
        return bind(index, std::string_view(text));
    }
    Statement& bind_blob(int index, std::span<const unsigned char> bytes);
    Statement& bind_null(int index);
    template <typename T>
    Statement& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind_null(index);
    }

    /// Advances: true when a row is available, false when done. Throws StoreError otherwise.
    bool step();
    /// Steps a statement that must not return rows (INSERT/UPDATE/DELETE).
    void run();
    /// Resets for re-execution and clears bindings.
    void reset();

    bool is_null(int column) const;
    std::int64_t get_int64(int column) const;
    double get_double(int column) const;
    std::string get_text(int column) const;  ///< "" for NULL
    std::vector<unsigned char> get_blob(int column) const;

  private:
    Database& db_;
    sqlite3_stmt* stmt_ = nullptr;
    std::string what_;
};

/// BEGIN IMMEDIATE on construction (retried with backoff while another writer holds the lock
/// beyond the busy timeout), ROLLBACK on destruction unless commit() was called.
class Transaction {
  public:
    explicit Transaction(Database& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    void commit();

  private:
    Database& db_;
    bool open_ = false;
};

}  // namespace assay::sqlite

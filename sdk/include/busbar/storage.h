// Connection: a small database abstraction (DBAL) over one storage backend.
//
// A storage plugin provides its Connection under the registry name "storage". Every value is
// passed as a bound parameter, never spliced into SQL; table and column names must match
// [A-Za-z_][A-Za-z0-9_]* and are quoted by the plugin in its own dialect, so a module written
// against this interface runs on every backend. Thread-safe: each call borrows a pooled session,
// except inside transaction(), where the Connection given to the callback is bound to one session
// and must be used from that thread only.
//
// Errors: DuplicateKey for a unique-key violation, StorageUnavailable when the database cannot
// be reached (HTTP 503), TransactionConflict (since SDK 1.2) when the database ended a statement
// or transaction on a deadlock or serialization failure, StorageError for anything else.
#pragma once

#include <charconv>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "busbar/export.h"
#include "busbar/registry.h"

namespace busbar {

// NULL, integer, real or text.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

// Column name -> value. Used both for rows read and for values written or matched.
using Row = std::map<std::string, Value>;

// Portable column types; each plugin maps them to its dialect.
enum class ColumnType { kInteger, kReal, kText };

struct Column {
  std::string name;
  ColumnType type = ColumnType::kText;
  int max_length = 0;  // for kText: 0 = unbounded; key columns need a bound for MySQL
  bool nullable = false;
};

struct TableSchema {
  std::string name;
  std::vector<Column> columns;
  std::vector<std::string> primary_key;
};

// Options of findAll: ORDER BY the columns (ascending), then LIMIT/OFFSET when limit > 0.
struct FindOptions {
  std::vector<std::string> order_by;
  int64_t limit = 0;
  int64_t offset = 0;
};

struct ExecuteResult {
  uint64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE
  std::vector<Row> rows;  // rows returned by SELECT
};

class BUSBAR_API Connection : public Service {
 public:
  // The backend's name: "sqlite", "mysql" or "postgresql".
  virtual std::string driver() const = 0;

  // On success the row exists. On a key conflict throws DuplicateKey.
  virtual void insert(const std::string& table, const Row& values) = 0;

  // Sets `values` on the rows matching every `where` column. Returns the rows matched (also
  // those whose values were already equal), the same on every backend.
  virtual uint64_t update(const std::string& table, const Row& values, const Row& where) = 0;

  // Inserts the row, or on a conflict on `key_columns` updates its other columns.
  virtual void upsert(const std::string& table, const Row& values,
                      const std::vector<std::string>& key_columns) = 0;

  // Deletes the rows matching every `where` column. Returns the rows deleted.
  virtual uint64_t remove(const std::string& table, const Row& where) = 0;

  // The first row matching every `where` column, or nothing.
  virtual std::optional<Row> findOne(const std::string& table, const Row& where) = 0;

  // The rows matching every `where` column (all rows when empty), per `options`.
  virtual std::vector<Row> findAll(const std::string& table, const Row& where,
                                   const FindOptions& options = {}) = 0;

  // Runs one statement with `?` placeholders bound to `params` in order. Portable only when the
  // SQL is; modules should prefer the methods above.
  virtual ExecuteResult execute(const std::string& sql, const std::vector<Value>& params = {}) = 0;

  // Creates the table when it does not exist, with types in the backend's dialect.
  virtual void createTable(const TableSchema& schema) = 0;

  // Runs `work` in one transaction on one session: commits when it returns, rolls back and
  // rethrows when it throws. Nested calls join the outer transaction. Events the same thread
  // dispatches inside `work` commit with it (event_bus.h). When the connection breaks during
  // COMMIT the host settles the outcome from the event log: returns if it committed, throws
  // StorageUnavailable if it did not, OutcomeUnknown if it cannot tell in time.
  virtual void transaction(const std::function<void(Connection&)>& work) = 0;
};

// Helpers to read a Value of a known type; throw StorageError when the type differs.
inline int64_t asInt(const Value& value) {
  if (const auto* integer = std::get_if<int64_t>(&value)) return *integer;
  if (const auto* real = std::get_if<double>(&value)) return static_cast<int64_t>(*real);
  if (const auto* text = std::get_if<std::string>(&value)) {
    int64_t number = 0;
    auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), number);
    if (error != std::errc() || end != text->data() + text->size()) {
      throw StorageError("expected an integer, found '" + *text + "'");
    }
    return number;
  }
  throw StorageError("expected an integer, found NULL");
}

inline std::string asText(const Value& value) {
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  if (const auto* integer = std::get_if<int64_t>(&value)) return std::to_string(*integer);
  if (const auto* real = std::get_if<double>(&value)) return std::to_string(*real);
  return std::string();
}

inline bool isNull(const Value& value) { return std::holds_alternative<std::monostate>(value); }

}  // namespace busbar

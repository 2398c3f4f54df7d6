// StatementConnection: the Connection methods written once, as SQL built with a Dialect.
//
// Subclasses say how one statement runs (on a pooled session, or on the session of a
// transaction). Identifiers are validated here, values are always bound. As thread-safe as the
// subclass's run(); the methods themselves keep no state.
#pragma once

#include <string>
#include <vector>

#include "busbar/storage.h"
#include "dialect.h"

namespace busbar::sql {

class StatementConnection : public Connection {
 public:
  explicit StatementConnection(const Dialect& dialect) : dialect_(dialect) {}

  void insert(const std::string& table, const Row& values) override;
  uint64_t update(const std::string& table, const Row& values, const Row& where) override;
  void upsert(const std::string& table, const Row& values,
              const std::vector<std::string>& key_columns) override;
  uint64_t remove(const std::string& table, const Row& where) override;
  std::optional<Row> findOne(const std::string& table, const Row& where) override;
  std::vector<Row> findAll(const std::string& table, const Row& where,
                           const FindOptions& options = {}) override;
  ExecuteResult execute(const std::string& sql, const std::vector<Value>& params = {}) override;
  void createTable(const TableSchema& schema) override;

 protected:
  // Runs one statement with `?` placeholders bound to `params`.
  virtual ExecuteResult run(const std::string& sql, const std::vector<Value>& params) = 0;

  // Runs a statement that has the same effect when it runs twice (a read, CREATE TABLE IF NOT
  // EXISTS), so that it may be sent again when its session turns out broken. Default: run().
  virtual ExecuteResult runIdempotent(const std::string& sql, const std::vector<Value>& params) {
    return run(sql, params);
  }

  const Dialect& dialect() const { return dialect_; }

 private:
  std::string quoted(const std::string& identifier) const;
  // " WHERE a = ? AND b = ?" (or "" when empty); appends the values to params.
  std::string whereClause(const Row& where, std::vector<Value>& params) const;

  const Dialect& dialect_;
};

// Throws StorageError unless `identifier` matches [A-Za-z_][A-Za-z0-9_]* (at most 64 chars).
void requireIdentifier(const std::string& identifier);

}  // namespace busbar::sql

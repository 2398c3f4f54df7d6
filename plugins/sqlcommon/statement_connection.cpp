#include "statement_connection.h"

#include "busbar/errors.h"

namespace busbar::sql {

void requireIdentifier(const std::string& identifier) {
  bool valid = !identifier.empty() && identifier.size() <= 64 &&
               !(identifier[0] >= '0' && identifier[0] <= '9');
  for (char c : identifier) {
    bool word =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    valid = valid && word;
  }
  if (!valid) {
    throw StorageError("invalid SQL identifier '" + identifier +
                       "': expected [A-Za-z_][A-Za-z0-9_]*, at most 64 characters");
  }
}

std::string StatementConnection::quoted(const std::string& identifier) const {
  requireIdentifier(identifier);
  return dialect_.quote(identifier);
}

std::string StatementConnection::whereClause(const Row& where, std::vector<Value>& params) const {
  std::string sql;
  for (const auto& [column, value] : where) {
    sql += sql.empty() ? " WHERE " : " AND ";
    if (isNull(value)) {
      sql += quoted(column) + " IS NULL";
    } else {
      sql += quoted(column) + " = ?";
      params.push_back(value);
    }
  }
  return sql;
}

void StatementConnection::insert(const std::string& table, const Row& values) {
  std::string columns;
  std::string placeholders;
  std::vector<Value> params;
  for (const auto& [column, value] : values) {
    columns += (columns.empty() ? "" : ", ") + quoted(column);
    placeholders += placeholders.empty() ? "?" : ", ?";
    params.push_back(value);
  }
  run("INSERT INTO " + quoted(table) + " (" + columns + ") VALUES (" + placeholders + ")", params);
}

uint64_t StatementConnection::update(const std::string& table, const Row& values,
                                     const Row& where) {
  if (values.empty()) return 0;
  std::string assignments;
  std::vector<Value> params;
  for (const auto& [column, value] : values) {
    assignments += (assignments.empty() ? "" : ", ") + quoted(column) + " = ?";
    params.push_back(value);
  }
  std::string sql = "UPDATE " + quoted(table) + " SET " + assignments;
  sql += whereClause(where, params);
  return run(sql, params).affected;
}

void StatementConnection::upsert(const std::string& table, const Row& values,
                                 const std::vector<std::string>& key_columns) {
  std::vector<std::string> columns;
  std::vector<Value> params;
  for (const auto& [column, value] : values) {
    columns.push_back(quoted(column));
    params.push_back(value);
  }
  std::vector<std::string> keys;
  for (const auto& key : key_columns) {
    if (values.count(key) == 0) throw StorageError("upsert key column '" + key + "' has no value");
    keys.push_back(quoted(key));
  }
  run(dialect_.upsert(quoted(table), columns, keys), params);
}

uint64_t StatementConnection::remove(const std::string& table, const Row& where) {
  std::vector<Value> params;
  std::string sql = "DELETE FROM " + quoted(table);
  sql += whereClause(where, params);
  return run(sql, params).affected;
}

std::optional<Row> StatementConnection::findOne(const std::string& table, const Row& where) {
  FindOptions options;
  options.limit = 1;
  auto rows = findAll(table, where, options);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

std::vector<Row> StatementConnection::findAll(const std::string& table, const Row& where,
                                              const FindOptions& options) {
  std::vector<Value> params;
  std::string sql = "SELECT * FROM " + quoted(table);
  sql += whereClause(where, params);
  std::string order;
  for (const auto& column : options.order_by) {
    order += (order.empty() ? " ORDER BY " : ", ") + quoted(column);
  }
  sql += order;
  if (options.limit > 0) {
    sql += " LIMIT " + std::to_string(options.limit);
    if (options.offset > 0) sql += " OFFSET " + std::to_string(options.offset);
  }
  return runIdempotent(sql, params).rows;
}

ExecuteResult StatementConnection::execute(const std::string& sql,
                                           const std::vector<Value>& params) {
  return run(sql, params);
}

void StatementConnection::createTable(const TableSchema& schema) {
  std::string sql = "CREATE TABLE IF NOT EXISTS " + quoted(schema.name) + " (";
  for (const auto& column : schema.columns) {
    sql += quoted(column.name) + " " + dialect_.columnType(column);
    sql += column.nullable ? " NULL, " : " NOT NULL, ";
  }
  std::string keys;
  for (const auto& key : schema.primary_key) keys += (keys.empty() ? "" : ", ") + quoted(key);
  if (keys.empty()) {
    sql.resize(sql.size() - 2);
  } else {
    sql += "PRIMARY KEY (" + keys + ")";
  }
  sql += ")" + dialect_.tableOptions();
  try {
    runIdempotent(sql, {});
  } catch (const StorageUnavailable&) {
    throw;
  } catch (const StorageError&) {
    // PostgreSQL's IF NOT EXISTS is not atomic: another session may have created the table
    // between its look and its create ("relation already exists", or a unique violation in its
    // catalog). When the table is there now, that is what was asked.
    bool exists = false;
    try {
      run("SELECT 1 FROM " + quoted(schema.name) + " WHERE 1 = 0", {});
      exists = true;
    } catch (const StorageError&) {
      // Not there: the create's own failure is the one to report.
    }
    if (!exists) throw;
  }
}

}  // namespace busbar::sql

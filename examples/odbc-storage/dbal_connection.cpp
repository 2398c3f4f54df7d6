#include "dbal_connection.h"

#include <algorithm>
#include <cctype>

#include <busbar/errors.h>

namespace odbc_storage {
namespace {

using busbar::Row;
using busbar::Value;

std::string whereClause(const Row& where, std::vector<Value>& params) {
  std::string sql;
  for (const auto& [column, value] : where) {
    sql += sql.empty() ? " WHERE " : " AND ";
    if (busbar::isNull(value)) {
      sql += quoted(column) + " IS NULL";
    } else {
      sql += quoted(column) + " = ?";
      params.push_back(value);
    }
  }
  return sql;
}

// PostgreSQL's types; text in the "C" collation, which compares and sorts bytes as the other
// backends do, whatever the database's locale.
std::string columnType(const busbar::Column& column) {
  switch (column.type) {
    case busbar::ColumnType::kInteger:
      return "BIGINT";
    case busbar::ColumnType::kReal:
      return "DOUBLE PRECISION";
    case busbar::ColumnType::kText:
      break;
  }
  if (column.max_length > 0) {
    return "VARCHAR(" + std::to_string(column.max_length) + ") COLLATE \"C\"";
  }
  return "TEXT COLLATE \"C\"";
}

void appendListItem(std::string& list, const std::string& item) {
  list += (list.empty() ? "" : ", ") + item;
}

}  // namespace

std::string quoted(const std::string& identifier) {
  bool valid = !identifier.empty() && identifier.size() <= 63 &&
               !(identifier[0] >= '0' && identifier[0] <= '9');
  for (char c : identifier) {
    valid = valid && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_');
  }
  if (!valid) {
    throw busbar::StorageError("invalid SQL identifier '" + identifier +
                               "': expected [A-Za-z_][A-Za-z0-9_]*, at most 63 characters");
  }
  return "\"" + identifier + "\"";
}

void DbalConnection::insert(const std::string& table, const Row& values) {
  std::string columns;
  std::string placeholders;
  std::vector<Value> params;
  for (const auto& [column, value] : values) {
    appendListItem(columns, quoted(column));
    appendListItem(placeholders, "?");
    params.push_back(value);
  }
  run("INSERT INTO " + quoted(table) + " (" + columns + ") VALUES (" + placeholders + ")", params,
      false);
}

uint64_t DbalConnection::update(const std::string& table, const Row& values, const Row& where) {
  if (values.empty()) return 0;
  std::string assignments;
  std::vector<Value> params;
  for (const auto& [column, value] : values) {
    appendListItem(assignments, quoted(column) + " = ?");
    params.push_back(value);
  }
  // PostgreSQL counts the rows an UPDATE matched, also those already equal.
  return run("UPDATE " + quoted(table) + " SET " + assignments + whereClause(where, params), params,
             false)
      .affected;
}

void DbalConnection::upsert(const std::string& table, const Row& values,
                            const std::vector<std::string>& key_columns) {
  std::string columns;
  std::string placeholders;
  std::string updates;
  std::vector<Value> params;
  for (const auto& key : key_columns) {
    if (values.count(key) == 0)
      throw busbar::StorageError("upsert key column '" + key + "' has no value");
  }
  for (const auto& [column, value] : values) {
    appendListItem(columns, quoted(column));
    appendListItem(placeholders, "?");
    params.push_back(value);
    if (std::find(key_columns.begin(), key_columns.end(), column) == key_columns.end()) {
      appendListItem(updates, quoted(column) + " = EXCLUDED." + quoted(column));
    }
  }
  std::string keys;
  for (const auto& key : key_columns) appendListItem(keys, quoted(key));
  run("INSERT INTO " + quoted(table) + " (" + columns + ") VALUES (" + placeholders +
          ") ON CONFLICT (" + keys + ") DO " +
          (updates.empty() ? std::string("NOTHING") : "UPDATE SET " + updates),
      params, false);
}

uint64_t DbalConnection::remove(const std::string& table, const Row& where) {
  std::vector<Value> params;
  const std::string sql = "DELETE FROM " + quoted(table) + whereClause(where, params);
  return run(sql, params, false).affected;
}

std::optional<Row> DbalConnection::findOne(const std::string& table, const Row& where) {
  busbar::FindOptions options;
  options.limit = 1;
  auto rows = findAll(table, where, options);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

std::vector<Row> DbalConnection::findAll(const std::string& table, const Row& where,
                                         const busbar::FindOptions& options) {
  std::vector<Value> params;
  std::string sql = "SELECT * FROM " + quoted(table) + whereClause(where, params);
  std::string order;
  for (const auto& column : options.order_by) {
    order += (order.empty() ? " ORDER BY " : ", ") + quoted(column);
  }
  sql += order;
  if (options.limit > 0) {
    sql += " LIMIT " + std::to_string(options.limit);
    if (options.offset > 0) sql += " OFFSET " + std::to_string(options.offset);
  }
  return run(sql, params, true).rows;
}

busbar::ExecuteResult DbalConnection::execute(const std::string& sql,
                                              const std::vector<Value>& params) {
  // A statement that begins with SELECT only reads (one that writes begins with WITH, INSERT,
  // UPDATE or DELETE), so it may be sent again.
  const auto first = sql.find_first_not_of(" \t\r\n(");
  const bool read =
      first != std::string::npos && sql.size() - first >= 6 &&
      std::equal(sql.begin() + first, sql.begin() + first + 6, "SELECT",
                 [](char a, char b) { return std::toupper(static_cast<unsigned char>(a)) == b; });
  return run(sql, params, read);
}

void DbalConnection::createTable(const busbar::TableSchema& schema) {
  std::string sql = "CREATE TABLE IF NOT EXISTS " + quoted(schema.name) + " (";
  std::string parts;
  for (const auto& column : schema.columns) {
    appendListItem(parts, quoted(column.name) + " " + columnType(column) +
                              (column.nullable ? " NULL" : " NOT NULL"));
  }
  std::string keys;
  for (const auto& key : schema.primary_key) appendListItem(keys, quoted(key));
  if (!keys.empty()) appendListItem(parts, "PRIMARY KEY (" + keys + ")");
  try {
    run(sql + parts + ")", {}, true);
  } catch (const busbar::StorageUnavailable&) {
    throw;
  } catch (const busbar::StorageError&) {
    // IF NOT EXISTS is not atomic: another session may have created the table between its look
    // and its create ("relation already exists", 42P07, or a unique violation in the catalog).
    // When the table is there now, that is what was asked.
    bool exists = false;
    try {
      run("SELECT 1 FROM " + quoted(schema.name) + " WHERE 1 = 0", {}, true);
      exists = true;
    } catch (const busbar::StorageError&) {
      // Not there: the create's own failure is the one to report.
    }
    if (!exists) throw;
  }
}

}  // namespace odbc_storage

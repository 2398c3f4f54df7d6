#include "statement_runner.h"

#include <algorithm>
#include <cctype>

#include <Poco/Data/DynamicLOB.h>
#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Statement.h>

#include <busbar/errors.h>

namespace odbc_storage {
namespace {

using busbar::Value;
using Poco::Data::Keywords::bind;

// The position just past the literal, quoted identifier or comment starting at `at`, or `at`
// when none starts there. A doubled quote inside a literal is an escaped quote.
std::size_t skipQuoted(const std::string& sql, std::size_t at) {
  const char c = sql[at];
  if (c == '\'' || c == '"') {
    std::size_t end = at + 1;
    while (end < sql.size()) {
      if (sql[end] == c) {
        if (end + 1 < sql.size() && sql[end + 1] == c) {
          end += 2;
          continue;
        }
        return end + 1;
      }
      ++end;
    }
    return sql.size();
  }
  if (c == '-' && at + 1 < sql.size() && sql[at + 1] == '-') {
    const std::size_t end = sql.find('\n', at);
    return end == std::string::npos ? sql.size() : end;
  }
  if (c == '/' && at + 1 < sql.size() && sql[at + 1] == '*') {
    const std::size_t end = sql.find("*/", at + 2);
    return end == std::string::npos ? sql.size() : end + 2;
  }
  return at;
}

// `sql` with each placeholder whose parameter is NULL written as NULL; the others' values are
// appended to `bound`.
std::string inlineNulls(const std::string& sql, const std::vector<Value>& params,
                        std::vector<const Value*>& bound) {
  std::string out;
  out.reserve(sql.size());
  std::size_t next = 0;
  std::size_t at = 0;
  while (at < sql.size()) {
    const std::size_t past = skipQuoted(sql, at);
    if (past != at) {
      out.append(sql, at, past - at);
      at = past;
      continue;
    }
    if (sql[at] == '?') {
      if (next >= params.size()) {
        throw busbar::StorageError("the statement has more '?' placeholders than the " +
                                   std::to_string(params.size()) + " values given: " + sql);
      }
      const Value& value = params[next++];
      if (busbar::isNull(value)) {
        out += "NULL";
      } else {
        out += '?';
        bound.push_back(&value);
      }
    } else {
      out += sql[at];
    }
    ++at;
  }
  if (next != params.size()) {
    throw busbar::StorageError("the statement has " + std::to_string(next) +
                               " '?' placeholders for " + std::to_string(params.size()) +
                               " values: " + sql);
  }
  return out;
}

// True when `sql` is an INSERT, UPDATE or DELETE without a RETURNING clause of its own.
bool countsRows(const std::string& sql) {
  std::string head;
  for (char c : sql) {
    if (head.empty() && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(')) continue;
    if (head.size() == 6) break;
    head += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (head != "INSERT" && head != "UPDATE" && head != "DELETE") return false;
  std::string upper(sql.size(), ' ');
  std::transform(sql.begin(), sql.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return upper.find("RETURNING") == std::string::npos;
}

Value toValue(const Poco::Dynamic::Var& var) {
  if (var.isEmpty()) return std::monostate{};
  if (var.isInteger() || var.isBoolean()) return static_cast<int64_t>(var.convert<Poco::Int64>());
  if (var.isNumeric()) return var.convert<double>();
  // Text, also a long text the driver hands over as a CLOB (DynamicLOB.h converts it).
  return var.convert<std::string>();
}

}  // namespace

busbar::ExecuteResult runStatement(Poco::Data::Session& session, const std::string& sql,
                                   const std::vector<busbar::Value>& params) {
  // Poco 1.11's ODBC statement reports the parameter rows it bound, not SQLRowCount, as the rows
  // a statement changed; PostgreSQL counts them itself when the change returns a row for each.
  const bool counted = countsRows(sql);
  std::vector<const Value*> bound;
  std::string text = inlineNulls(sql, params, bound);
  if (counted) {
    text = "WITH busbar_changed AS (" + text +
           " RETURNING 1) SELECT COUNT(*) AS busbar_affected FROM busbar_changed";
  }
  Poco::Data::Statement statement(session);
  statement << text;
  for (const Value* value : bound) {
    if (const auto* integer = std::get_if<int64_t>(value)) {
      statement, bind(static_cast<Poco::Int64>(*integer));
    } else if (const auto* real = std::get_if<double>(value)) {
      statement, bind(*real);
    } else {
      statement, bind(std::get<std::string>(*value));
    }
  }
  busbar::ExecuteResult result;
  statement.execute();
  if (statement.columnsExtracted() == 0) return result;
  Poco::Data::RecordSet records(statement);
  if (counted) {
    result.affected = records.rowCount() == 0 ? 0 : records.value(0, 0).convert<uint64_t>();
    return result;
  }
  const std::size_t columns = records.columnCount();
  std::vector<std::string> names;
  for (std::size_t column = 0; column < columns; ++column) {
    names.push_back(records.columnName(column));
  }
  const std::size_t rows = records.rowCount();
  result.rows.reserve(rows);
  for (std::size_t row = 0; row < rows; ++row) {
    busbar::Row out;
    for (std::size_t column = 0; column < columns; ++column) {
      out.emplace(names[column], records.isNull(column, row) ? Value(std::monostate{})
                                                             : toValue(records.value(column, row)));
    }
    result.rows.push_back(std::move(out));
  }
  return result;
}

}  // namespace odbc_storage

#include "statement_runner.h"

#include <Poco/Data/DataException.h>
#include <Poco/Data/DynamicLOB.h>
#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Statement.h>
#include <Poco/Nullable.h>

#include "busbar/errors.h"

namespace busbar::sql {
namespace {

using Poco::Data::Keywords::bind;

Value toValue(const Poco::Dynamic::Var& var) {
  if (var.isEmpty()) return std::monostate{};
  if (var.isInteger() || var.isBoolean()) return static_cast<int64_t>(var.convert<Poco::Int64>());
  if (var.isNumeric()) return var.convert<double>();
  return var.convert<std::string>();
}

void bindValue(Poco::Data::Statement& statement, const Value& value) {
  if (const auto* integer = std::get_if<int64_t>(&value)) {
    statement, bind(static_cast<Poco::Int64>(*integer));
  } else if (const auto* real = std::get_if<double>(&value)) {
    statement, bind(*real);
  } else if (const auto* text = std::get_if<std::string>(&value)) {
    statement, bind(*text);
  } else {
    statement, bind(Poco::Nullable<std::string>());
  }
}

bool stillConnected(Poco::Data::Session& session) {
  try {
    return session.isConnected();
  } catch (...) {
    return false;
  }
}

}  // namespace

ExecuteResult executeStatement(Poco::Data::Session& session, const Dialect& dialect,
                               const std::string& sql, const std::vector<Value>& params) {
  Poco::Data::Statement statement(session);
  statement << dialect.rewritePlaceholders(sql);
  for (const auto& value : params) bindValue(statement, value);
  return runStatement(statement, session, dialect);
}

ExecuteResult runStatement(Poco::Data::Statement& statement, Poco::Data::Session& session,
                           const Dialect& dialect) {
  ExecuteResult result;
  const std::size_t reported = statement.execute();
  if (statement.columnsExtracted() == 0) {
    result.affected = dialect.matchedRows(session, reported);
    return result;
  }
  Poco::Data::RecordSet records(statement);
  const std::size_t columns = records.columnCount();
  std::vector<std::string> names;
  names.reserve(columns);
  for (std::size_t column = 0; column < columns; ++column) {
    names.push_back(records.columnName(column));
  }
  const std::size_t rows = records.rowCount();
  result.rows.reserve(rows);
  for (std::size_t row = 0; row < rows; ++row) {
    Row out;
    for (std::size_t column = 0; column < columns; ++column) {
      out.emplace(names[column], records.isNull(column, row) ? Value(std::monostate{})
                                                             : toValue(records.value(column, row)));
    }
    result.rows.push_back(std::move(out));
  }
  return result;
}

Failure classify(const Dialect& dialect, Poco::Data::Session& session,
                 const Poco::Exception& error) {
  if (dialect.isDuplicateKey(error)) return Failure::kDuplicateKey;
  if (dynamic_cast<const Poco::Data::ConnectionFailedException*>(&error) != nullptr ||
      dynamic_cast<const Poco::Data::NotConnectedException*>(&error) != nullptr ||
      dialect.isUnavailable(error) || !stillConnected(session)) {
    return Failure::kUnavailable;
  }
  if (dialect.isRetryable(error)) return Failure::kRetryable;
  return Failure::kOther;
}

void throwFailure(Failure failure, const std::string& message) {
  switch (failure) {
    case Failure::kDuplicateKey:
      throw DuplicateKey(message);
    case Failure::kUnavailable:
      throw StorageUnavailable(message);
    case Failure::kRetryable:
      throw TransactionConflict(message);
    case Failure::kOther:
      break;
  }
  throw StorageError(message);
}

}  // namespace busbar::sql

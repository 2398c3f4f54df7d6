#include "postgresql_statement_cache.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

#include <libpq-fe.h>

#include <Poco/Data/DataException.h>
#include <Poco/Data/PostgreSQL/PostgreSQLException.h>
#include <Poco/Data/PostgreSQL/SessionImpl.h>

#include "postgresql_dialect.h"

namespace busbar::postgresql {
namespace {

using Poco::Data::PostgreSQL::SessionHandle;
using Poco::Data::PostgreSQL::StatementException;

// Type OIDs of PostgreSQL's catalog (pg_type), for the values read back.
constexpr Oid kBool = 16;
constexpr Oid kInt8 = 20;
constexpr Oid kInt2 = 21;
constexpr Oid kInt4 = 23;
constexpr Oid kBytea = 17;
constexpr Oid kFloat4 = 700;
constexpr Oid kFloat8 = 701;
constexpr Oid kNumeric = 1700;

// SQLSTATEs after which a kept statement must be prepared anew: the server no longer holds it
// (invalid_sql_statement_name), or its plan's result changed shape (feature_not_supported:
// "cached plan must not change result type").
constexpr const char* kStatementGone = "26000";
constexpr const char* kResultChanged = "0A000";

// A statement with more placeholders than this runs unnamed, never kept: the event log's
// numbering of a large batch, whose size varies from run to run, would hold a plan of its own
// in the server's memory for each size and churn the cache.
constexpr std::size_t kMaxKeptParameters = 100;

// Frees a PGresult when it goes out of scope.
struct ResultScope {
  PGresult* result;
  ~ResultScope() { PQclear(result); }
};

SessionHandle& handleOf(Poco::Data::Session& session) {
  auto* impl = dynamic_cast<Poco::Data::PostgreSQL::SessionImpl*>(session.impl());
  if (impl == nullptr) throw Poco::Data::NotConnectedException("not a PostgreSQL session");
  return impl->handle();
}

// The error of a failed `result` (or of the connection, when there is no result), with the fields
// Poco's connector gives, the SQLSTATE first after "State: ", where the dialect finds it: the
// message and its detail may quote a value that looks like one.
[[noreturn]] void fail(PGconn* connection, const PGresult* result, const char* step,
                       const std::string& sql) {
  auto field = [&](int code) {
    const char* value = result != nullptr ? PQresultErrorField(result, code) : nullptr;
    return std::string(value != nullptr ? value : "N/A");
  };
  const char* message =
      result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(connection);
  throw StatementException(
      std::string("postgresql_stmt_") + step + " error: State: " + field(PG_DIAG_SQLSTATE) + " " +
      message + " Severity: " + field(PG_DIAG_SEVERITY) +
      " Detail: " + field(PG_DIAG_MESSAGE_DETAIL) + " Hint: " + field(PG_DIAG_MESSAGE_HINT) +
      " Constraint: " + field(PG_DIAG_CONSTRAINT_NAME) + " SQL: " + sql);
}

bool succeeded(const PGresult* result) {
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

bool stateIs(const PGresult* result, const char* state) {
  const char* found = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  return found != nullptr && std::string(found) == state;
}

// Throws unless `params` has one value for each of the statement's `arity` placeholders: the
// server would call a mismatch a protocol violation, which reads as a broken connection.
void checkArity(const std::string& sql, const std::vector<Value>& params, std::size_t arity) {
  if (params.size() != arity) {
    throw StatementException("State: 07001 " + std::to_string(params.size()) + " values for " +
                             std::to_string(arity) + " parameters: " + sql);
  }
}

// The values of one run as libpq takes them: text, or a null pointer for NULL.
class TextParams {
 public:
  explicit TextParams(const std::vector<Value>& params) {
    texts_.reserve(params.size());
    pointers_.reserve(params.size());
    for (const auto& value : params) {
      if (const auto* integer = std::get_if<int64_t>(&value)) {
        texts_.push_back(std::to_string(*integer));
      } else if (const auto* real = std::get_if<double>(&value)) {
        texts_.push_back(realText(*real));
      } else if (const auto* text = std::get_if<std::string>(&value)) {
        texts_.push_back(*text);
      } else {
        texts_.emplace_back();
      }
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      pointers_.push_back(std::holds_alternative<std::monostate>(params[i]) ? nullptr
                                                                            : texts_[i].c_str());
    }
  }

  int count() const { return static_cast<int>(pointers_.size()); }
  const char* const* values() const { return pointers_.empty() ? nullptr : pointers_.data(); }

 private:
  // The shortest decimal that reads back as the same double, whatever the C locale, in
  // PostgreSQL's words for the values that have no digits.
  static std::string realText(double real) {
    if (std::isnan(real)) return "NaN";
    if (std::isinf(real)) return real > 0 ? "Infinity" : "-Infinity";
    char text[32];
    const auto written = std::to_chars(std::begin(text), std::end(text), real);
    return std::string(text, written.ptr);
  }

  std::vector<std::string> texts_;
  std::vector<const char*> pointers_;
};

// A double as PostgreSQL writes one (digits, "NaN", "Infinity", "-Infinity"), whatever the C
// locale.
double realOf(const char* text) {
  double real = 0;
  const char* start = *text == '+' ? text + 1 : text;
  std::from_chars(start, start + std::strlen(start), real);
  return real;
}

Value columnValue(const PGresult* result, int row, int column) {
  if (PQgetisnull(result, row, column) != 0) return std::monostate{};
  const char* text = PQgetvalue(result, row, column);
  switch (PQftype(result, column)) {
    case kBool:
      return static_cast<int64_t>(text[0] == 't' ? 1 : 0);
    case kInt2:
    case kInt4:
    case kInt8:
      return static_cast<int64_t>(std::strtoll(text, nullptr, 10));
    case kFloat4:
    case kFloat8:
    case kNumeric:
      return realOf(text);
    case kBytea: {
      // Sent as text ("\\x" and hex digits): the bytes themselves, as Poco's connector gave.
      std::size_t size = 0;
      unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &size);
      if (bytes == nullptr) throw std::bad_alloc();
      std::string out(reinterpret_cast<const char*>(bytes), size);
      PQfreemem(bytes);
      return out;
    }
    default:
      return std::string(text, static_cast<std::size_t>(PQgetlength(result, row, column)));
  }
}

// The rows of a successful `result`, or the rows it changed.
ExecuteResult resultOf(const PGresult* result) {
  ExecuteResult out;
  if (PQresultStatus(result) != PGRES_TUPLES_OK) {
    const char* changed = PQcmdTuples(const_cast<PGresult*>(result));  // takes no const
    out.affected = changed != nullptr && *changed != '\0' ? std::strtoull(changed, nullptr, 10) : 0;
    return out;
  }
  const int columns = PQnfields(result);
  std::vector<std::string> names;
  names.reserve(static_cast<std::size_t>(columns));
  for (int column = 0; column < columns; ++column) names.emplace_back(PQfname(result, column));
  const int rows = PQntuples(result);
  out.rows.reserve(static_cast<std::size_t>(rows));
  for (int row = 0; row < rows; ++row) {
    Row values;
    for (int column = 0; column < columns; ++column) {
      values.emplace(names[static_cast<std::size_t>(column)], columnValue(result, row, column));
    }
    out.rows.push_back(std::move(values));
  }
  return out;
}

}  // namespace

ExecuteResult PostgresqlStatementCache::execute(Poco::Data::Session& session, const sql::Dialect&,
                                                const std::string& sql,
                                                const std::vector<Value>& params) {
  SessionHandle& handle = handleOf(session);
  Poco::FastMutex::ScopedLock locked(handle.mutex());
  PGconn* connection = handle;
  if (connection == nullptr || PQstatus(connection) != CONNECTION_OK) {
    throw Poco::Data::NotConnectedException("the PostgreSQL session is not connected");
  }
  if (deallocate_all_ || !to_deallocate_.empty()) deallocateDropped(connection);
  // 26000 and 0A000 come from binding, before the statement ran: outside a transaction they abort
  // nothing, so the statement runs once more, prepared anew.
  const bool outside_transaction = PQtransactionStatus(connection) == PQTRANS_IDLE;
  const TextParams values(params);
  for (int attempt = 1;; ++attempt) {
    const Statement* statement = capacity_ == 0 ? nullptr : statements_.use(sql);
    if (statement != nullptr) {
      checkArity(sql, params, statement->arity);
    } else {
      std::size_t arity = 0;
      const std::string numbered = numberPlaceholders(sql, arity);
      checkArity(sql, params, arity);
      if (capacity_ == 0 || arity > kMaxKeptParameters) {
        ResultScope run{PQexecParams(connection, numbered.c_str(), values.count(), nullptr,
                                     values.values(), nullptr, nullptr, 0)};
        if (!succeeded(run.result)) fail(connection, run.result, "execute", sql);
        return resultOf(run.result);
      }
      statement = &prepare(connection, sql, numbered, arity);
    }
    ResultScope run{PQexecPrepared(connection, statement->name.c_str(), values.count(),
                                   values.values(), nullptr, nullptr, 0)};
    if (succeeded(run.result)) return resultOf(run.result);
    if (stateIs(run.result, kStatementGone) || stateIs(run.result, kResultChanged)) {
      if (auto gone = statements_.remove(sql)) deallocateLater(std::move(gone->name));
      if (outside_transaction && attempt == 1) continue;
    }
    fail(connection, run.result, "execute", sql);
  }
}

const PostgresqlStatementCache::Statement& PostgresqlStatementCache::prepare(
    PGconn* connection, const std::string& sql, const std::string& numbered, std::size_t arity) {
  if (statements_.size() >= capacity_) {
    if (auto evicted = statements_.removeLeastRecentlyUsed()) {
      deallocateLater(std::move(evicted->name));
    }
  }
  deallocateDropped(connection);
  std::string name = "busbar_" + std::to_string(++next_name_);
  {
    ResultScope prepared{
        PQprepare(connection, name.c_str(), numbered.c_str(), static_cast<int>(arity), nullptr)};
    if (!succeeded(prepared.result)) fail(connection, prepared.result, "prepare", sql);
  }
  ++prepared_;
  try {
    return statements_.add(sql, Statement{name, arity});
  } catch (...) {
    deallocateLater(std::move(name));  // out of memory: the server's copy goes all the same
    throw;
  }
}

void PostgresqlStatementCache::deallocateDropped(PGconn* connection) noexcept {
  // Only outside a transaction, where a failure aborts nothing.
  if (PQtransactionStatus(connection) != PQTRANS_IDLE) return;
  if (deallocate_all_) {
    // Every statement of the session goes, those prepared since clear() too: forgotten with it.
    PQclear(PQexec(connection, "DEALLOCATE ALL"));
    statements_.clear();
  } else if (!to_deallocate_.empty()) {
    std::string batch;
    try {
      for (const auto& name : to_deallocate_) batch += "DEALLOCATE " + name + ";";
    } catch (...) {
      batch.clear();  // out of memory: one at a time below
    }
    ResultScope all{batch.empty() ? nullptr : PQexec(connection, batch.c_str())};
    if (!succeeded(all.result)) {
      // A name the server no longer holds (a DEALLOCATE ALL a module sent) ends the batch there:
      // one at a time, each failure alone.
      for (const auto& name : to_deallocate_) {
        PQclear(PQexec(connection, ("DEALLOCATE " + name).c_str()));
      }
    }
  }
  deallocate_all_ = false;
  to_deallocate_.clear();
}

void PostgresqlStatementCache::deallocateLater(std::string&& name) noexcept {
  try {
    to_deallocate_.push_back(std::move(name));
  } catch (...) {
    deallocate_all_ = true;  // out of memory: every name goes at once
  }
}

void PostgresqlStatementCache::clear() noexcept {
  deallocate_all_ = deallocate_all_ || !statements_.empty() || !to_deallocate_.empty();
  to_deallocate_.clear();
  statements_.clear();
}

}  // namespace busbar::postgresql

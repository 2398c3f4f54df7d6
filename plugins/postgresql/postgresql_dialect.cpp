#include "postgresql_dialect.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <vector>

#include <libpq-fe.h>

#include <Poco/Data/DataException.h>
#include <Poco/Data/PostgreSQL/PostgreSQLException.h>
#include <Poco/Data/PostgreSQL/SessionImpl.h>

#include "postgresql_statement_cache.h"
#include "upsert_sql.h"

namespace busbar::postgresql {
namespace {

// Messages of libpq when the link to the server is gone; they carry no SQLSTATE.
constexpr const char* kLinkLost[] = {
    "server closed the connection unexpectedly",
    "no connection to the server",
    "could not send data to server",
    "could not receive data from server",
    "connection to server",
    "terminating connection",
    "SSL SYSCALL error",
    "the database system is",
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The length of a dollar-quote tag ("$$" or "$tag$") starting at `at`, or 0 when none starts.
std::size_t dollarTag(const std::string& sql, std::size_t at) {
  std::size_t end = at + 1;
  while (end < sql.size() &&
         (std::isalnum(static_cast<unsigned char>(sql[end])) || sql[end] == '_')) {
    ++end;
  }
  if (end < sql.size() && sql[end] == '$' &&
      !(end > at + 1 && std::isdigit(static_cast<unsigned char>(sql[at + 1])))) {
    return end - at + 1;
  }
  return 0;
}

// Takes the Poco shell of a broken session whose libpq connection was finished and keeps it for
// the rest of the process: destroying it would touch the connection. The list is never
// destroyed, so that not even the exit does.
void keepShell(std::unique_ptr<Poco::Data::Session>& session) noexcept {
  static auto* mutex = new std::mutex;
  static auto* shells = new std::vector<Poco::Data::Session*>;
  std::lock_guard<std::mutex> lock(*mutex);
  try {
    shells->push_back(session.get());
  } catch (...) {
    // Out of memory: the shell goes unlisted, and is still never destroyed.
  }
  static_cast<void>(session.release());
}

}  // namespace

std::string postgresqlState(const Poco::Exception& error) {
  const std::string& text = error.message();
  const std::string marker = "State: ";
  auto at = text.find(marker);
  if (at == std::string::npos || at + marker.size() + 5 > text.size()) return "";
  return text.substr(at + marker.size(), 5);
}

std::string PostgresqlDialect::quote(const std::string& identifier) const {
  return "\"" + identifier + "\"";
}

std::string PostgresqlDialect::rewritePlaceholders(const std::string& sql) const {
  std::size_t count = 0;
  return numberPlaceholders(sql, count);
}

std::string numberPlaceholders(const std::string& sql, std::size_t& count) {
  count = 0;
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 1;
  std::size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      // A literal or quoted identifier; a doubled quote inside it is an escaped quote. In an
      // E'...' literal a backslash escapes the next character.
      bool backslashes = c == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e');
      std::size_t end = i + 1;
      while (end < sql.size()) {
        if (backslashes && sql[end] == '\\') {
          end += 2;
        } else if (sql[end] == c) {
          if (end + 1 < sql.size() && sql[end + 1] == c) {
            end += 2;
          } else {
            break;
          }
        } else {
          ++end;
        }
      }
      end = std::min(end + 1, sql.size());
      out.append(sql, i, end - i);
      i = end;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      std::size_t end = sql.find('\n', i);
      end = end == std::string::npos ? sql.size() : end;
      out.append(sql, i, end - i);
      i = end;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      std::size_t end = sql.find("*/", i + 2);
      end = end == std::string::npos ? sql.size() : end + 2;
      out.append(sql, i, end - i);
      i = end;
    } else if (c == '$' && dollarTag(sql, i) > 0) {
      std::size_t length = dollarTag(sql, i);
      std::string tag = sql.substr(i, length);
      std::size_t close = sql.find(tag, i + length);
      std::size_t end = close == std::string::npos ? sql.size() : close + length;
      out.append(sql, i, end - i);
      i = end;
    } else if (c == '?') {
      out += "$" + std::to_string(next++);
      ++i;
      count = std::max(count, static_cast<std::size_t>(next - 1));
    } else if (c == '$' && i + 1 < sql.size() &&
               std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      // A `$n` written as it is: the statement's placeholders go up to it.
      std::size_t end = i + 1;
      std::size_t number = 0;
      while (end < sql.size() && std::isdigit(static_cast<unsigned char>(sql[end])) &&
             number < 65536) {
        number = number * 10 + static_cast<std::size_t>(sql[end] - '0');
        ++end;
      }
      count = std::max(count, number);
      out.append(sql, i, end - i);
      i = end;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

std::string PostgresqlDialect::columnType(const Column& column) const {
  switch (column.type) {
    case ColumnType::kInteger:
      return "BIGINT";
    case ColumnType::kReal:
      return "DOUBLE PRECISION";
    case ColumnType::kText:
      break;
  }
  // The "C" collation compares and sorts bytes, as the other backends do, whatever the
  // database's locale.
  if (column.max_length > 0) {
    return "VARCHAR(" + std::to_string(column.max_length) + ") COLLATE \"C\"";
  }
  return "TEXT COLLATE \"C\"";
}

std::string PostgresqlDialect::upsert(const std::string& table,
                                      const std::vector<std::string>& columns,
                                      const std::vector<std::string>& keys) const {
  return sql::onConflictUpsert(table, columns, keys, "EXCLUDED");
}

bool PostgresqlDialect::isDuplicateKey(const Poco::Exception& error) const {
  return postgresqlState(error) == "23505";  // unique_violation
}

bool PostgresqlDialect::isUnavailable(const Poco::Exception& error) const {
  const std::string state = postgresqlState(error);
  // Class 08: connection exception; 57P01-57P03: shutdown, crash, cannot connect now;
  // 53300: too many connections.
  if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03" ||
      state == "53300") {
    return true;
  }
  if (dynamic_cast<const Poco::Data::PostgreSQL::ConnectionException*>(&error) != nullptr &&
      state.empty()) {
    return true;
  }
  const std::string& text = error.message();
  return std::any_of(std::begin(kLinkLost), std::end(kLinkLost),
                     [&](const char* part) { return contains(text, part); });
}

bool PostgresqlDialect::isResultChanged(const Poco::Exception& error) const {
  // feature_not_supported, which a kept statement meets as "cached plan must not change result
  // type" (in the server's language) when its table has other columns than when it was
  // prepared; the cache then drops it, and another failure of that class fails the read again.
  return postgresqlState(error) == "0A000";
}

std::unique_ptr<sql::StatementCache> PostgresqlDialect::makeStatementCache(
    std::size_t capacity) const {
  return std::make_unique<PostgresqlStatementCache>(capacity);
}

bool PostgresqlDialect::isRetryable(const Poco::Exception& error) const {
  const std::string state = postgresqlState(error);
  // deadlock_detected, serialization_failure, lock_not_available
  return state == "40P01" || state == "40001" || state == "55P03";
}

void PostgresqlDialect::beforeOpen(const std::string& connection_string) const {
  PGconn* probe = PQconnectdb(connection_string.c_str());
  const bool connected = probe != nullptr && PQstatus(probe) == CONNECTION_OK;
  std::string reason = probe != nullptr ? PQerrorMessage(probe) : "out of memory";
  PQfinish(probe);
  if (!connected) throw Poco::Data::ConnectionFailedException(reason);
}

void PostgresqlDialect::close(std::unique_ptr<Poco::Data::Session> session) const noexcept {
  auto* impl = dynamic_cast<Poco::Data::PostgreSQL::SessionImpl*>(session->impl());
  PGconn* connection = impl != nullptr ? static_cast<PGconn*>(impl->handle()) : nullptr;
  if (connection == nullptr || PQstatus(connection) == CONNECTION_OK) {
    Dialect::close(std::move(session));
    return;
  }
  PQfinish(connection);
  keepShell(session);
}

std::vector<std::string> PostgresqlDialect::sessionSetup() const {
  if (idle_transaction_timeout_seconds_ <= 0) return {};
  return {"SET idle_in_transaction_session_timeout = '" +
          std::to_string(idle_transaction_timeout_seconds_) + "s'"};
}

}  // namespace busbar::postgresql

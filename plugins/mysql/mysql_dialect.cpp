#include "mysql_dialect.h"

#include <algorithm>
#include <cctype>

#include <Poco/Data/MySQL/MySQLException.h>
#include <Poco/Data/MySQL/SessionImpl.h>

#include "upsert_sql.h"

namespace busbar::mysql {
namespace {

// Longest VARCHAR that still fits an InnoDB index in utf8mb4 (3072 bytes).
constexpr int kMaxIndexedVarchar = 768;

bool oneOf(int number, std::initializer_list<int> numbers) {
  return std::find(numbers.begin(), numbers.end(), number) != numbers.end();
}

}  // namespace

int mysqlErrorNumber(const Poco::Exception& error) {
  if (error.code() != 0) return error.code();
  const std::string& text = error.message();
  const std::string marker = "errno]: ";
  auto at = text.find(marker);
  if (at == std::string::npos) return 0;
  int number = 0;
  for (auto i = at + marker.size();
       i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
    number = number * 10 + (text[i] - '0');
  }
  return number;
}

std::string MysqlDialect::quote(const std::string& identifier) const {
  return "`" + identifier + "`";
}

std::string MysqlDialect::columnType(const Column& column) const {
  switch (column.type) {
    case ColumnType::kInteger:
      return "BIGINT";
    case ColumnType::kReal:
      return "DOUBLE";
    case ColumnType::kText:
      break;
  }
  if (column.max_length > 0 && column.max_length <= kMaxIndexedVarchar) {
    return "VARCHAR(" + std::to_string(column.max_length) + ")";
  }
  // Poco 1.11 gives every result column a fetch buffer of the column's declared maximum: 256 KiB
  // for TEXT in utf8mb4, 64 MiB for MEDIUMTEXT (tens of milliseconds per SELECT), and LONGTEXT
  // overflows it and crashes. So unbounded text holds up to 65,535 bytes here; a longer value
  // fails as a StorageError (strict mode), it is never cut.
  return "TEXT";
}

std::string MysqlDialect::tableOptions() const {
  // NO PAD: 'a' and 'a ' are different keys, as on the other backends (MariaDB 10.2+).
  return " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin";
}

std::string MysqlDialect::upsert(const std::string& table, const std::vector<std::string>& columns,
                                 const std::vector<std::string>& keys) const {
  sql::UpsertParts parts = sql::upsertParts(columns, keys);
  std::string updates;
  for (const auto& column : parts.non_keys) {
    updates += (updates.empty() ? "" : ", ") + column + " = VALUES(" + column + ")";
  }
  // With only key columns there is nothing to update: assigning a key to itself is a no-op.
  if (updates.empty() && !keys.empty()) updates = keys.front() + " = " + keys.front();
  return "INSERT INTO " + table + " (" + parts.names + ") VALUES (" + parts.placeholders +
         ") ON DUPLICATE KEY UPDATE " + updates;
}

bool MysqlDialect::isDuplicateKey(const Poco::Exception& error) const {
  // ER_DUP_KEY, ER_DUP_ENTRY, ER_DUP_ENTRY_WITH_KEY_NAME
  return oneOf(mysqlErrorNumber(error), {1022, 1062, 1586});
}

bool MysqlDialect::isUnavailable(const Poco::Exception& error) const {
  int number = mysqlErrorNumber(error);
  // Client: cannot connect (2002, 2003, 2005), server gone or connection lost (2006, 2013,
  // 2055). Server: too many connections (1040), shutting down (1053), connection killed (1927),
  // closed for inactivity (4031).
  if (oneOf(number, {2002, 2003, 2005, 2006, 2013, 2055, 1040, 1053, 1927, 4031})) return true;
  // A failed connect or transaction command that names no error number.
  return number == 0 &&
         dynamic_cast<const Poco::Data::MySQL::ConnectionException*>(&error) != nullptr;
}

bool MysqlDialect::isResultChanged(const Poco::Exception& error) const {
  // CR_NEW_STMT_METADATA: a kept statement's result has other columns than when it was prepared.
  return mysqlErrorNumber(error) == 2057;
}

bool MysqlDialect::isRetryable(const Poco::Exception& error) const {
  // ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT
  return oneOf(mysqlErrorNumber(error), {1213, 1205});
}

std::vector<std::string> MysqlDialect::sessionSetup() const {
  // Autocommit on whatever the server's default: the pool counts on new sessions having it.
  std::vector<std::string> setup = {
      "SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,"
      "NO_ENGINE_SUBSTITUTION'",
      autocommitStatement(true)};
  // MariaDB 10.3+: the server closes a session whose transaction waits longer for its client.
  if (idle_transaction_timeout_seconds_ > 0) {
    setup.push_back("SET SESSION idle_transaction_timeout = " +
                    std::to_string(idle_transaction_timeout_seconds_));
  }
  return setup;
}

uint64_t MysqlDialect::matchedRows(Poco::Data::Session& session, uint64_t reported) const {
  auto* impl = dynamic_cast<Poco::Data::MySQL::SessionImpl*>(session.impl());
  if (impl == nullptr) return reported;
  // "Rows matched: 2  Changed: 0  Warnings: 0" after an UPDATE; NULL after other statements.
  const char* info = mysql_info(impl->handle());
  if (info == nullptr) return reported;
  const std::string text(info);
  const std::string marker = "Rows matched: ";
  auto at = text.find(marker);
  if (at == std::string::npos) return reported;
  uint64_t matched = 0;
  bool digits = false;
  for (auto i = at + marker.size();
       i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
    matched = matched * 10 + static_cast<uint64_t>(text[i] - '0');
    digits = true;
  }
  return digits ? matched : reported;
}

}  // namespace busbar::mysql

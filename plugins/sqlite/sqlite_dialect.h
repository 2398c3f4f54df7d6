// SqliteDialect: SQL differences of SQLite 3.24+ (upsert with ON CONFLICT ... excluded).
//
// Bounded text columns get a CHECK on their length, as the other backends enforce it.
// Transactions start with BEGIN IMMEDIATE, so that two writers queue instead of one failing when
// it upgrades its read lock: on the connection's writer mutex within a process, on the busy
// timeout across processes. Stateless; safe from any thread.
#pragma once

#include "dialect.h"

namespace busbar::sqlite {

class SqliteDialect : public sql::Dialect {
 public:
  std::string quote(const std::string& identifier) const override;
  std::string columnType(const Column& column) const override;
  std::string upsert(const std::string& table, const std::vector<std::string>& columns,
                     const std::vector<std::string>& keys) const override;
  bool isDuplicateKey(const Poco::Exception& error) const override;
  bool isUnavailable(const Poco::Exception& error) const override;
  bool isResultChanged(const Poco::Exception& error) const override;
  std::unique_ptr<sql::StatementCache> makeStatementCache(std::size_t capacity) const override;
  std::vector<std::string> sessionSetup() const override;
  std::string beginStatement() const override { return "BEGIN IMMEDIATE"; }
  bool singleWriter() const override { return true; }
};

}  // namespace busbar::sqlite

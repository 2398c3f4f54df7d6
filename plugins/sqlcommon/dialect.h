// Dialect: what differs between SQL backends, so that PocoDataConnection can be shared.
//
// Each storage plugin implements one. Stateless; safe from any thread.
#pragma once

#include <string>
#include <vector>

#include <Poco/Exception.h>

#include "busbar/storage.h"

namespace busbar::sql {

class Dialect {
 public:
  virtual ~Dialect() = default;

  // The identifier quoted for this backend; the caller has validated it.
  virtual std::string quote(const std::string& identifier) const = 0;

  // The statement with each `?` placeholder outside quotes rewritten for this backend (e.g.
  // "$1" for PostgreSQL). The default keeps `?`.
  virtual std::string rewritePlaceholders(const std::string& sql) const { return sql; }

  // The column's type in CREATE TABLE.
  virtual std::string columnType(const Column& column) const = 0;

  // INSERT ... that updates the non-key columns on a key conflict, with `?` placeholders.
  // `columns` are quoted, in the order their values are bound; `keys` are the quoted keys.
  virtual std::string upsert(const std::string& table, const std::vector<std::string>& columns,
                             const std::vector<std::string>& keys) const = 0;

  // True when the exception is a unique or primary key violation.
  virtual bool isDuplicateKey(const Poco::Exception& error) const = 0;

  // True when the exception means the database is unreachable or the session is broken.
  virtual bool isUnavailable(const Poco::Exception& error) const = 0;

  // SQL run on a fresh session before it is used (e.g. PRAGMAs); may be empty.
  virtual std::vector<std::string> sessionSetup() const { return {}; }
};

}  // namespace busbar::sql

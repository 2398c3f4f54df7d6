// DbalConnection: the DBAL methods of busbar::Connection as PostgreSQL statements over one run()
// that each subclass implements (pooled sessions, or one transaction's session). Every value is
// a bound parameter; every table and column name is checked against [A-Za-z_][A-Za-z0-9_]* and
// double-quoted. Thread-safe as run() is.
#pragma once

#include <string>
#include <vector>

#include <busbar/storage.h>

namespace odbc_storage {

class DbalConnection : public busbar::Connection {
 public:
  std::string driver() const override { return "odbc"; }
  void insert(const std::string& table, const busbar::Row& values) override;
  uint64_t update(const std::string& table, const busbar::Row& values,
                  const busbar::Row& where) override;
  void upsert(const std::string& table, const busbar::Row& values,
              const std::vector<std::string>& key_columns) override;
  uint64_t remove(const std::string& table, const busbar::Row& where) override;
  std::optional<busbar::Row> findOne(const std::string& table, const busbar::Row& where) override;
  std::vector<busbar::Row> findAll(const std::string& table, const busbar::Row& where,
                                   const busbar::FindOptions& options) override;
  busbar::ExecuteResult execute(const std::string& sql,
                                const std::vector<busbar::Value>& params) override;
  void createTable(const busbar::TableSchema& schema) override;

 protected:
  // Runs one statement; `idempotent`: it may be sent again on a fresh session when the one it
  // went out on turned out broken (a read, CREATE TABLE IF NOT EXISTS).
  virtual busbar::ExecuteResult run(const std::string& sql,
                                    const std::vector<busbar::Value>& params, bool idempotent) = 0;
};

// The identifier double-quoted; throws StorageError when it is not [A-Za-z_][A-Za-z0-9_]*
// (at most 63 characters, PostgreSQL's limit).
std::string quoted(const std::string& identifier);

}  // namespace odbc_storage

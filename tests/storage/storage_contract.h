// StorageContract: the fixture of the storage contract suite, run once per backend.
//
// Each test gets a fresh Connection of its backend and a table of its own ("items": text key,
// text name, nullable text note, integer count, nullable real score), dropped afterwards, so
// tests can run in parallel against one database. Used by one test thread at a time; the
// Connection itself is thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "busbar/storage.h"
#include "poco_data_connection.h"

namespace busbar::testing {

class StorageContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  void TearDown() override;

  const std::string& driver() const { return GetParam(); }

  // Creates a table like items under a new name and returns the name; dropped in TearDown.
  std::string createItemsTable(const std::string& prefix);

  // Creates `schema` under a new name made from its name and returns that name; dropped in
  // TearDown.
  std::string createTable(TableSchema schema);

  // A row of the items table.
  static Row item(const std::string& id, const std::string& name, int64_t count);

  std::map<std::string, std::string> keys_;  // the [storage] keys connection_ was made from
  std::shared_ptr<sql::PocoDataConnection> connection_;
  std::string items_;  // the name of this test's items table

 private:
  std::vector<std::string> tables_;
};

// "sqlite", "mysql", "postgresql" as test name suffixes.
std::string driverName(const ::testing::TestParamInfo<std::string>& info);

}  // namespace busbar::testing

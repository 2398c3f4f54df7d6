// StorageContract: the fixture of the storage suite, whose parameter is the name of the plugin
// under test. Each test gets a started instance of the plugin (a server's storage) and a table of
// its own ("items": text key, text name, nullable text note, integer count, nullable real
// score), dropped afterwards. Used by one test thread at a time; the Connection is thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "busbar/storage.h"
#include "plugin_under_test.h"

namespace busbar::conformance {

class StorageContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The name the plugin's Connection gives its backend.
  const std::string& driver() const { return driver_; }

  // Creates a table like items under a new name and returns the name; dropped in TearDown.
  std::string createItemsTable(const std::string& prefix);

  // Creates `schema` under a new name made from its name and returns that name; dropped in
  // TearDown.
  std::string createTable(TableSchema schema);

  // A row of the items table.
  static Row item(const std::string& id, const std::string& name, int64_t count);

  // The Connection of another instance of the plugin on the same database, as a second server
  // has. It lives as long as the test.
  std::shared_ptr<Connection> openAnother();

  std::unique_ptr<PluginInstance> instance_;
  std::shared_ptr<Connection> connection_;
  std::string items_;  // the name of this test's items table

 private:
  std::vector<std::unique_ptr<PluginInstance>> others_;
  std::vector<std::string> tables_;
  std::string driver_;
};

// `body` as the body of a test's thread: what it throws fails the test, where an exception leaving
// a std::thread would end the whole run (a plugin's error must cost one test, not the suite).
template <typename Body>
auto failsTheTestOnThrow(Body body) {
  return [body]() mutable {
    try {
      body();
    } catch (const std::exception& error) {
      ADD_FAILURE() << "a thread of the test threw: " << error.what();
    }
  };
}

// Returns once `done()` holds, reading `table` through the open transaction `tx` every 100 ms
// meanwhile: a database ends a transaction that waits on its client longer than
// [storage] idle_transaction_timeout (1 s by default), and what a test waits for inside one
// (another thread's step) can take longer than that on a loaded machine. Throws
// std::runtime_error when `done()` does not hold within 60 s (a test thread that failed).
void waitKeepingBusy(Connection& tx, const std::string& table, const std::function<bool()>& done);

// "t_<prefix>_<random hex>", lower case: a table name no other test uses.
std::string uniqueTableName(const std::string& prefix);

// The suites' one parameter: the name of the plugin under test.
std::vector<std::string> pluginUnderTestName();

// The parameter as a test name suffix.
std::string pluginParamName(const ::testing::TestParamInfo<std::string>& info);

}  // namespace busbar::conformance

#include "contract_fixture.h"

#include <chrono>
#include <random>
#include <stdexcept>
#include <thread>

namespace busbar::conformance {
namespace {

TableSchema itemsSchema(const std::string& name) {
  TableSchema schema;
  schema.name = name;
  schema.columns = {{"id", ColumnType::kText, 64, false},
                    {"name", ColumnType::kText, 0, false},
                    {"note", ColumnType::kText, 0, true},
                    {"count", ColumnType::kInteger, 0, false},
                    {"score", ColumnType::kReal, 0, true}};
  schema.primary_key = {"id"};
  return schema;
}

std::shared_ptr<Connection> storageOf(const PluginInstance& instance) {
  auto storage = instance.find<Connection>("storage");
  if (!storage) {
    throw std::runtime_error("plugin '" + pluginUnderTest().loaded().name +
                             "' provides no \"storage\" (a busbar::Connection) in init()");
  }
  return storage;
}

}  // namespace

void StorageContract::SetUp() {
  instance_ = pluginUnderTest().start();
  connection_ = storageOf(*instance_);
  driver_ = connection_->driver();
  items_ = createItemsTable("items");
}

void StorageContract::TearDown() {
  if (!connection_) return;
  for (const auto& table : tables_) {
    try {
      connection_->execute("DROP TABLE IF EXISTS " + table);
    } catch (const std::exception& error) {
      ADD_FAILURE() << "cannot drop " << table << ": " << error.what();
    }
  }
}

std::string StorageContract::createItemsTable(const std::string& prefix) {
  return createTable(itemsSchema(prefix));
}

std::string StorageContract::createTable(TableSchema schema) {
  schema.name = uniqueTableName(schema.name);
  connection_->createTable(schema);
  tables_.push_back(schema.name);
  return schema.name;
}

Row StorageContract::item(const std::string& id, const std::string& name, int64_t count) {
  return {{"id", id}, {"name", name}, {"count", count}};
}

std::shared_ptr<Connection> StorageContract::openAnother() {
  others_.push_back(pluginUnderTest().start());
  return storageOf(*others_.back());
}

std::string uniqueTableName(const std::string& prefix) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  static const char* digits = "0123456789abcdef";
  std::string name = "t_" + prefix + "_";
  for (int i = 0; i < 10; ++i) name += digits[random() % 16];
  return name;
}

std::vector<std::string> pluginUnderTestName() { return {pluginUnderTest().loaded().name}; }

std::string pluginParamName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

void waitKeepingBusy(Connection& tx, const std::string& table, const std::function<bool()>& done) {
  using Clock = std::chrono::steady_clock;
  const auto given_up_at = Clock::now() + std::chrono::seconds(60);
  auto last_read = Clock::now();
  while (!done()) {
    if (Clock::now() >= given_up_at) {
      throw std::runtime_error("waited 60 s inside a transaction for another thread's step");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (Clock::now() - last_read >= std::chrono::milliseconds(100)) {
      tx.findAll(table, {});
      last_read = Clock::now();
    }
  }
}

}  // namespace busbar::conformance

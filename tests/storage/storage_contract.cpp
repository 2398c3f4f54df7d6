#include "storage_contract.h"

#include "storage_backends.h"

namespace busbar::testing {
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

}  // namespace

void StorageContract::SetUp() {
  keys_ = storageKeys(driver());
  connection_ = openStorageFrom(driver(), keys_);
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

std::string driverName(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

}  // namespace busbar::testing

#include "migrator.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Timestamp.h>

#include "busbar/errors.h"

namespace busbar::host {
namespace {

const char* kTable = "busbar_migrations";

TableSchema migrationsTable() {
  TableSchema schema;
  schema.name = kTable;
  schema.columns = {{"module", ColumnType::kText, 64, false},
                    {"number", ColumnType::kInteger, 0, false},
                    {"description", ColumnType::kText, 200, false},
                    {"applied_at", ColumnType::kText, 40, false}};
  schema.primary_key = {"module", "number"};
  return schema;
}

}  // namespace

void Migrator::add(const std::string& module, Migration migration) {
  auto& list = by_module_[module];
  int expected = static_cast<int>(list.size()) + 1;
  if (migration.number != expected) {
    throw ConfigError("migration " + std::to_string(migration.number) + " of module " + module +
                      " is out of order: expected number " + std::to_string(expected));
  }
  list.push_back(std::move(migration));
}

void Migrator::apply(Connection& connection, Poco::Logger& logger) {
  if (by_module_.empty()) return;
  connection.createTable(migrationsTable());
  for (const auto& [module, migrations] : by_module_) {
    auto applied = connection.findAll(kTable, {{"module", module}}, {});
    for (const auto& row : applied) {
      auto number = asInt(row.at("number"));
      if (number > static_cast<int64_t>(migrations.size())) {
        throw StorageError("the database has migration " + std::to_string(number) +
                           " of module " + module + ", but this busbar knows only up to " +
                           std::to_string(migrations.size()) +
                           ": it was written by a newer busbar; run that version or restore "
                           "a backup");
      }
    }
    for (const auto& migration : migrations) {
      bool done = false;
      for (const auto& row : applied) done = done || asInt(row.at("number")) == migration.number;
      if (done) continue;
      try {
        connection.transaction([&](Connection& tx) {
          tx.insert(kTable, {{"module", module},
                             {"number", static_cast<int64_t>(migration.number)},
                             {"description", migration.description},
                             {"applied_at", Poco::DateTimeFormatter::format(
                                                Poco::Timestamp(), Poco::DateTimeFormat::ISO8601_FORMAT)}});
          migration.apply(tx);
        });
        logger.information("applied migration " + module + " " +
                           std::to_string(migration.number) + ": " + migration.description);
      } catch (const DuplicateKey&) {
        logger.information("migration " + module + " " + std::to_string(migration.number) +
                           " was applied by another server");
      } catch (const std::exception& error) {
        throw StorageError("migration " + module + " " + std::to_string(migration.number) +
                           " (" + migration.description + ") failed: " + error.what());
      }
    }
  }
}

}  // namespace busbar::host

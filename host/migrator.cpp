#include "migrator.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Thread.h>
#include <Poco/Timestamp.h>

#include "busbar/errors.h"

namespace busbar::host {
namespace {

const char* kTable = "busbar_migrations";
constexpr int kWaitForOthersSeconds = 60;

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

namespace {

std::string now() {
  return Poco::DateTimeFormatter::format(Poco::Timestamp(), Poco::DateTimeFormat::ISO8601_FORMAT);
}

// Waits until every claimed migration of `module` is marked applied. A backend whose DDL commits
// implicitly (MySQL) makes another server's claim visible before its migration is done.
void waitForOthers(Connection& connection, const std::string& module, Poco::Logger& logger,
                   int timeout_seconds) {
  Poco::Timestamp started;
  bool told = false;
  for (;;) {
    std::string pending;
    for (const auto& row : connection.findAll(kTable, {{"module", module}}, {})) {
      if (asText(row.at("applied_at")).empty()) pending = asText(row.at("number"));
    }
    if (pending.empty()) return;
    if (started.elapsed() > static_cast<Poco::Timestamp::TimeDiff>(timeout_seconds) * 1000000) {
      throw StorageError("migration " + module + " " + pending +
                         " was claimed by another server but not finished within " +
                         std::to_string(timeout_seconds) +
                         " s; if no server is applying it, delete its row from " + kTable +
                         " and start again");
    }
    if (!told)
      logger.information("waiting for another server to finish migration " + module + " " +
                         pending);
    told = true;
    Poco::Thread::sleep(50);
  }
}

}  // namespace

void Migrator::apply(Connection& connection, Poco::Logger& logger) {
  if (by_module_.empty()) return;
  connection.createTable(migrationsTable());
  for (const auto& [module, migrations] : by_module_) {
    auto applied = connection.findAll(kTable, {{"module", module}}, {});
    for (const auto& row : applied) {
      auto number = asInt(row.at("number"));
      if (number > static_cast<int64_t>(migrations.size())) {
        throw StorageError("the database has migration " + std::to_string(number) + " of module " +
                           module + ", but this busbar knows only up to " +
                           std::to_string(migrations.size()) +
                           ": it was written by a newer busbar; run that version or restore "
                           "a backup");
      }
    }
    for (const auto& migration : migrations) {
      bool done = false;
      for (const auto& row : applied) done = done || asInt(row.at("number")) == migration.number;
      if (done) continue;
      const Row key = {{"module", module}, {"number", static_cast<int64_t>(migration.number)}};
      bool claimed_elsewhere = false;
      try {
        connection.transaction([&](Connection& tx) {
          // The claim: a second server's insert waits for this transaction, then fails.
          Row claim = key;
          claim["description"] = migration.description;
          claim["applied_at"] = std::string();
          try {
            tx.insert(kTable, claim);
          } catch (const DuplicateKey&) {
            claimed_elsewhere = true;
            return;
          }
          migration.apply(tx);
          tx.update(kTable, {{"applied_at", now()}}, key);
        });
      } catch (const std::exception& error) {
        throw StorageError("migration " + module + " " + std::to_string(migration.number) + " (" +
                           migration.description + ") failed: " + error.what());
      }
      if (claimed_elsewhere) {
        logger.information("migration " + module + " " + std::to_string(migration.number) +
                           " is applied by another server");
        waitForOthers(connection, module, logger, kWaitForOthersSeconds);
      } else {
        logger.information("applied migration " + module + " " + std::to_string(migration.number) +
                           ": " + migration.description);
      }
    }
    waitForOthers(connection, module, logger, kWaitForOthersSeconds);
  }
}

}  // namespace busbar::host

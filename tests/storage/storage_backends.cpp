#include "storage_backends.h"

#include <mutex>
#include <random>
#include <stdexcept>

#include <Poco/Util/MapConfiguration.h>

#include "server_process.h"
#include "sqlite_event_log.h"
#include "sqlite_storage.h"
#ifdef BUSBAR_TEST_WITH_MYSQL
#include "mysql_event_log.h"
#include "mysql_storage.h"
#endif
#ifdef BUSBAR_TEST_WITH_POSTGRESQL
#include "postgresql_event_log.h"
#include "postgresql_storage.h"
#endif

namespace busbar::testing {
namespace {

std::map<std::string, std::string> serverKeys(const std::string& driver,
                                              const std::string& prefix) {
  return {{"driver", driver},
          {"host", requireEnv(prefix + "HOST")},
          {"port", requireEnv(prefix + "PORT")},
          {"database", requireEnv(prefix + "DATABASE")},
          {"user", requireEnv(prefix + "USER")},
          {"password", requireEnv(prefix + "PASSWORD")},
          {"pool.min", "1"},
          {"pool.max", "16"},
          {"connect_timeout", "2"}};
}

const std::string& sqliteFolder() {
  static const TempDir folder;
  return folder.path();
}

std::string randomHex(int digits) {
  static std::mutex mutex;
  static std::mt19937_64 generator(std::random_device{}());
  std::lock_guard<std::mutex> lock(mutex);
  std::string out;
  for (int i = 0; i < digits; ++i) out += "0123456789abcdef"[generator() % 16];
  return out;
}

}  // namespace

std::vector<std::string> storageDrivers() {
  std::vector<std::string> drivers{"sqlite"};
#ifdef BUSBAR_TEST_WITH_MYSQL
  drivers.push_back("mysql");
#endif
#ifdef BUSBAR_TEST_WITH_POSTGRESQL
  drivers.push_back("postgresql");
#endif
  return drivers;
}

std::vector<std::string> serverStorageDrivers() {
  std::vector<std::string> drivers;
  for (const auto& driver : storageDrivers()) {
    if (driver != "sqlite") drivers.push_back(driver);
  }
  return drivers;
}

std::map<std::string, std::string> storageKeys(
    const std::string& driver, const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> keys;
  if (driver == "sqlite") {
    keys = {{"driver", "sqlite"},
            {"sqlite.path", sqliteFolder() + "/" + randomHex(12) + ".db"},
            {"pool.max", "16"}};
  } else if (driver == "mysql") {
    keys = serverKeys(driver, "BUSBAR_TEST_MYSQL_");
  } else if (driver == "postgresql") {
    keys = serverKeys(driver, "BUSBAR_TEST_PG_");
  } else {
    throw std::runtime_error("no storage driver named " + driver);
  }
  for (const auto& [key, value] : overrides) {
    if (value.empty()) {
      keys.erase(key);
    } else {
      keys[key] = value;
    }
  }
  return keys;
}

ConfigSection storageSection(const std::map<std::string, std::string>& keys) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
  for (const auto& [key, value] : keys) config->setString("storage." + key, value);
  return ConfigSection(config, sqliteFolder() + "/host.conf", "storage");
}

std::shared_ptr<sql::PocoDataConnection> openStorageFrom(
    const std::string& driver, const std::map<std::string, std::string>& keys) {
  ConfigSection section = storageSection(keys);
  if (driver == "sqlite") {
    auto settings = sqlite::readSqliteSettings(section);
    auto connection = sqlite::makeSqliteConnection(settings);
    sqlite::openSqliteDatabase(*connection, settings);
    return connection;
  }
#ifdef BUSBAR_TEST_WITH_MYSQL
  if (driver == "mysql") return mysql::makeMysqlConnection(section);
#endif
#ifdef BUSBAR_TEST_WITH_POSTGRESQL
  if (driver == "postgresql") return postgresql::makePostgresqlConnection(section);
#endif
  throw std::runtime_error("no storage driver named " + driver + " in this build");
}

std::shared_ptr<sql::PocoDataConnection> openStorage(
    const std::string& driver, const std::map<std::string, std::string>& overrides) {
  return openStorageFrom(driver, storageKeys(driver, overrides));
}

std::shared_ptr<sql::SqlEventLog> eventLogOf(const std::string& driver,
                                             std::shared_ptr<sql::PocoDataConnection> storage) {
  if (driver == "sqlite") return std::make_shared<sqlite::SqliteEventLog>(std::move(storage));
#ifdef BUSBAR_TEST_WITH_MYSQL
  if (driver == "mysql") return std::make_shared<mysql::MysqlEventLog>(std::move(storage));
#endif
#ifdef BUSBAR_TEST_WITH_POSTGRESQL
  if (driver == "postgresql") {
    return std::make_shared<postgresql::PostgresqlEventLog>(std::move(storage));
  }
#endif
  throw std::runtime_error("no storage driver named " + driver + " in this build");
}

std::string uniqueTableName(const std::string& prefix) {
  return "t_" + prefix + "_" + randomHex(10);
}

}  // namespace busbar::testing

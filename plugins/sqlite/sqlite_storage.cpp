#include "sqlite_storage.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/Thread.h>
#include <Poco/Timestamp.h>

#include "busbar/errors.h"
#include "sqlite_dialect.h"

namespace busbar::sqlite {
namespace {

constexpr Poco::Timestamp::TimeDiff kLockWaitMicroseconds = 5 * 1000 * 1000;

bool isLocked(const StorageUnavailable& error) {
  const std::string text = error.what();
  return text.find("locked") != std::string::npos || text.find("busy") != std::string::npos;
}

}  // namespace

SqliteSettings readSqliteSettings(const ConfigSection& config) {
  config.rejectUnknownKeys({"driver", "sqlite.path", "pool.min", "pool.max"});
  SqliteSettings settings;
  settings.path = config.getPath("sqlite.path", "busbar.db");
  settings.pool_min = static_cast<int>(config.getInt("pool.min", 1, 0, 1024));
  settings.pool_max = static_cast<int>(config.getInt("pool.max", 16, 1, 1024));
  if (settings.pool_min > settings.pool_max) {
    config.fail("pool.min", "must not exceed pool.max (" + std::to_string(settings.pool_max) + ")",
                std::to_string(settings.pool_min));
  }
  return settings;
}

std::shared_ptr<sql::PocoDataConnection> makeSqliteConnection(const SqliteSettings& settings) {
  Poco::Data::SQLite::Connector::registerConnector();
  sql::PoolSettings pool;
  pool.connector = "sqlite";
  pool.connection_string = settings.path;
  pool.min_sessions = settings.pool_min;
  pool.max_sessions = settings.pool_max;
  pool.connect_timeout_seconds = 5;
  // Parsed once per session instead of on every run; a few kilobytes each, in this process.
  pool.statement_cache = 64;
  return std::make_shared<sql::PocoDataConnection>("sqlite", std::make_unique<SqliteDialect>(),
                                                   pool);
}

void openSqliteDatabase(sql::PocoDataConnection& connection, const SqliteSettings& settings) {
  try {
    Poco::File(Poco::Path(settings.path).parent()).createDirectories();
  } catch (const Poco::Exception& error) {
    throw StorageUnavailable("cannot create the folder of " + settings.path + ": " +
                             error.displayText());
  }
  // Switching a new file to WAL needs a lock that SQLite's busy timeout does not wait for, so a
  // server starting at the same moment as another one on the same file retries for a while.
  Poco::Timestamp started;
  for (;;) {
    try {
      connection.execute("PRAGMA journal_mode = WAL", {});
      break;
    } catch (const StorageUnavailable& error) {
      // Only a lock passes; a file that cannot be opened says so at once.
      if (!isLocked(error) || started.elapsed() > kLockWaitMicroseconds) throw;
      Poco::Thread::sleep(20);
    }
  }
  connection.warmUp();
}

}  // namespace busbar::sqlite

// The sqlite storage backend as a library: settings from [storage], and the Connection over
// one database file. Used by the sqlite plugin and by the storage contract tests.
#pragma once

#include <memory>
#include <string>

#include "busbar/config.h"
#include "poco_data_connection.h"

namespace busbar::sqlite {

struct SqliteSettings {
  std::string path;  // absolute path of the database file
  int pool_min = 1;
  int pool_max = 16;
};

// Reads driver, sqlite.path (relative to the config file; default busbar.db), pool.min and
// pool.max; rejects unknown keys. Throws ConfigError.
SqliteSettings readSqliteSettings(const ConfigSection& config);

// A Connection over the file; registers Poco's SQLite connector. Opens nothing yet.
std::shared_ptr<sql::PocoDataConnection> makeSqliteConnection(const SqliteSettings& settings);

// Creates the file's folder and switches the file to WAL, so readers go on while one writer
// commits. Throws StorageError (StorageUnavailable when the file cannot be opened or stays
// locked; StorageError when it is no database or is read-only).
void openSqliteDatabase(sql::PocoDataConnection& connection, const SqliteSettings& settings);

}  // namespace busbar::sqlite

// The mysql storage backend as a library: settings from [storage], and the Connection over a
// MySQL or MariaDB server. Used by the mysql plugin and by the storage contract tests.
#pragma once

#include <memory>

#include "busbar/config.h"
#include "poco_data_connection.h"
#include "server_settings.h"

namespace busbar::mysql {

// Reads the server keys (port 3306 by default). Throws ConfigError, also for a password with a
// ';', which Poco's MySQL connection string cannot carry.
sql::ServerSettings readMysqlSettings(const ConfigSection& config);

// Registers Poco's MySQL connector, which runs mysql_library_init, once per process. Call it
// before any thread that uses MySQL starts (the plugin calls it in init).
void registerMysqlConnector();

// A Connection over the server; registers the connector. Opens nothing yet.
std::shared_ptr<sql::PocoDataConnection> makeMysqlConnection(const sql::ServerSettings& settings);

// readMysqlSettings, then makeMysqlConnection.
std::shared_ptr<sql::PocoDataConnection> makeMysqlConnection(const ConfigSection& config);

}  // namespace busbar::mysql

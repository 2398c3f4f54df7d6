// The mysql storage backend as a library: settings from [storage], and the Connection over a
// MySQL or MariaDB server. Used by the mysql plugin and by the storage contract tests.
#pragma once

#include <memory>

#include "busbar/config.h"
#include "mysql_tls.h"
#include "poco_data_connection.h"
#include "server_settings.h"

namespace busbar::mysql {

// What [storage] says about the MySQL or MariaDB server: where it is, and TLS.
struct MysqlSettings {
  sql::ServerSettings server;
  MysqlTls tls;
};

// Reads the server keys (port 3306 by default) and the TLS keys (mysql_tls.h). Throws
// ConfigError, also for a value with a ';', which Poco's MySQL connection string cannot carry.
MysqlSettings readMysqlSettings(const ConfigSection& config);

// Registers Poco's MySQL connector, which runs mysql_library_init, and the TLS connection handler
// (tls_connection_handler.h), once per process. Call it before any thread that uses MySQL starts
// (the plugin calls it in init).
void registerMysqlConnector();

// A Connection over the server; registers the connector. Opens nothing yet.
std::shared_ptr<sql::PocoDataConnection> makeMysqlConnection(const MysqlSettings& settings);

// readMysqlSettings, then makeMysqlConnection.
std::shared_ptr<sql::PocoDataConnection> makeMysqlConnection(const ConfigSection& config);

}  // namespace busbar::mysql

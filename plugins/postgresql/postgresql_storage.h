// The postgresql storage backend as a library: settings from [storage], and the Connection over
// a PostgreSQL server. Used by the postgresql plugin and by the storage contract tests.
#pragma once

#include <memory>

#include "busbar/config.h"
#include "poco_data_connection.h"
#include "postgresql_tls.h"
#include "server_settings.h"

namespace busbar::postgresql {

// What [storage] says about the PostgreSQL server: where it is, and TLS.
struct PostgresqlSettings {
  sql::ServerSettings server;
  PostgresqlTls tls;
};

// Reads the server keys (port 5432 by default) and the TLS keys (postgresql_tls.h). Throws
// ConfigError, also for a value with a space, which Poco's PostgreSQL connection string cannot
// carry.
PostgresqlSettings readPostgresqlSettings(const ConfigSection& config);

// A Connection over the server; registers Poco's PostgreSQL connector. Opens nothing yet.
std::shared_ptr<sql::PocoDataConnection> makePostgresqlConnection(
    const PostgresqlSettings& settings);

// readPostgresqlSettings, then makePostgresqlConnection.
std::shared_ptr<sql::PocoDataConnection> makePostgresqlConnection(const ConfigSection& config);

}  // namespace busbar::postgresql

#include "postgresql_storage.h"

#include <mutex>
#include <set>

#include <Poco/Data/PostgreSQL/Connector.h>

#include "conninfo.h"
#include "postgresql_dialect.h"

namespace busbar::postgresql {
namespace {

// The connection string of Poco's PostgreSQL connector: key=value pairs split at spaces, handed
// to libpq as they are.
std::string connectionString(const sql::ServerSettings& settings, const PostgresqlTls& tls) {
  std::string text =
      "host=" + conninfoValue(settings.host) + " port=" + std::to_string(settings.port) +
      " dbname=" + conninfoValue(settings.database) + " user=" + conninfoValue(settings.user) +
      " connect_timeout=" + std::to_string(settings.connect_timeout_seconds) +
      " application_name=busbar";
  if (!settings.password.empty()) text += " password=" + conninfoValue(settings.password);
  return text + tlsConninfo(tls);
}

}  // namespace

PostgresqlSettings readPostgresqlSettings(const ConfigSection& config) {
  std::set<std::string> plugin_keys(std::begin(kPostgresqlTlsKeys), std::end(kPostgresqlTlsKeys));
  plugin_keys.insert("statement_cache");
  sql::ServerSettings settings = sql::readServerSettings(config, 5432, plugin_keys);
  // Each is a prepared statement held by its session on the server, which sets no limit on them.
  settings.statement_cache = static_cast<int>(config.getInt("statement_cache", 64, 0, 1024));
  for (const auto& [key, value] :
       {std::pair<const char*, const std::string*>{"host", &settings.host},
        {"database", &settings.database},
        {"user", &settings.user}}) {
    if (value->find_first_of(" \t") != std::string::npos) {
      config.fail(key, "must not contain spaces", "'" + *value + "'");
    }
  }
  if (settings.password.find_first_of(" \t") != std::string::npos) {
    config.fail("password",
                "must not contain spaces (Poco's PostgreSQL connection string cannot carry them)",
                "a password with a space (from the file or BUSBAR_STORAGE_PASSWORD)");
  }
  return {settings, readPostgresqlTls(config)};
}

std::shared_ptr<sql::PocoDataConnection> makePostgresqlConnection(
    const PostgresqlSettings& postgresql) {
  const sql::ServerSettings& settings = postgresql.server;
  static std::once_flag once;
  std::call_once(once, [] { Poco::Data::PostgreSQL::Connector::registerConnector(); });
  sql::PoolSettings pool;
  pool.connector = "postgresql";
  pool.connection_string = connectionString(settings, postgresql.tls);
  pool.min_sessions = settings.pool_min;
  pool.max_sessions = settings.pool_max;
  pool.connect_timeout_seconds = settings.connect_timeout_seconds;
  pool.statement_cache = static_cast<std::size_t>(settings.statement_cache);
  return std::make_shared<sql::PocoDataConnection>(
      "postgresql",

      std::make_unique<PostgresqlDialect>(settings.idle_transaction_timeout_seconds), pool);
}

std::shared_ptr<sql::PocoDataConnection> makePostgresqlConnection(const ConfigSection& config) {
  return makePostgresqlConnection(readPostgresqlSettings(config));
}

}  // namespace busbar::postgresql

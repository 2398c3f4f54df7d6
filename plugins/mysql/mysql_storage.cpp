#include "mysql_storage.h"

#include <iterator>
#include <mutex>
#include <set>

#include <Poco/Data/MySQL/Connector.h>

#include "mysql_dialect.h"
#include "tls_connection_handler.h"

namespace busbar::mysql {
namespace {

// The connection string of Poco's MySQL connector: key=value pairs split at ';'. With TLS its host
// names a TLS profile (registered here, tls_connection_handler.h). auto-reconnect stays false: a
// session that reconnected would skip the handler's checks, and the pool opens a new one instead.
std::string connectionString(const sql::ServerSettings& settings, const MysqlTls& tls) {
  return "host=" + hostWithTlsProfile(settings.host, tls) +
         ";port=" + std::to_string(settings.port) + ";db=" + settings.database +
         ";user=" + settings.user + ";password=" + settings.password +
         ";compress=false;auto-reconnect=false;secure-auth=true;character-set=utf8mb4";
}

}  // namespace

MysqlSettings readMysqlSettings(const ConfigSection& config) {
  std::set<std::string> plugin_keys(std::begin(kMysqlTlsKeys), std::end(kMysqlTlsKeys));
  plugin_keys.insert("statement_cache");
  sql::ServerSettings settings = sql::readServerSettings(config, 3306, plugin_keys);
  // Each one is a prepared statement on the server, which counts them all against
  // max_prepared_stmt_count (16382 by default): sessions x statement_cache must stay below it.
  settings.statement_cache = static_cast<int>(config.getInt("statement_cache", 16, 0, 1024));
  for (const auto& [key, value] :
       {std::pair<const char*, const std::string*>{"host", &settings.host},
        {"database", &settings.database},
        {"user", &settings.user}}) {
    if (value->find(';') != std::string::npos) {
      config.fail(key, "must not contain ';'", "'" + *value + "'");
    }
  }
  // libmariadb reads "scheme://" as a connection handler to load and ',' as a list of hosts.
  if (settings.host.find("://") != std::string::npos ||
      settings.host.find(',') != std::string::npos) {
    config.fail("host", "must be one host name or address, without '://' or ','",
                "'" + settings.host + "'");
  }
  if (settings.password.find(';') != std::string::npos) {
    config.fail("password", "must not contain ';' (Poco's MySQL connection string cannot carry it)",
                "a password with ';' (from the file or BUSBAR_STORAGE_PASSWORD)");
  }
  return {settings, readMysqlTls(config)};
}

void registerMysqlConnector() {
  static std::once_flag once;
  std::call_once(once, [] {
    Poco::Data::MySQL::Connector::registerConnector();
    registerTlsConnectionHandler();
  });
}

std::shared_ptr<sql::PocoDataConnection> makeMysqlConnection(const MysqlSettings& mysql) {
  const sql::ServerSettings& settings = mysql.server;
  registerMysqlConnector();
  sql::PoolSettings pool;
  pool.connector = "mysql";
  pool.connection_string = connectionString(settings, mysql.tls);
  pool.min_sessions = settings.pool_min;
  pool.max_sessions = settings.pool_max;
  pool.connect_timeout_seconds = settings.connect_timeout_seconds;
  pool.statement_cache = static_cast<std::size_t>(settings.statement_cache);
  return std::make_shared<sql::PocoDataConnection>(
      "mysql", std::make_unique<MysqlDialect>(settings.idle_transaction_timeout_seconds), pool);
}

std::shared_ptr<sql::PocoDataConnection> makeMysqlConnection(const ConfigSection& config) {
  return makeMysqlConnection(readMysqlSettings(config));
}

}  // namespace busbar::mysql

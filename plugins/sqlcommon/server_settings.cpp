#include "server_settings.h"

namespace busbar::sql {

std::string ServerSettings::describe() const {
  return user + "@" + host + ":" + std::to_string(port) + "/" + database;
}

std::set<std::string> serverSettingKeys() {
  return {"driver",   "host",     "port",     "database",        "user",
          "password", "pool.min", "pool.max", "connect_timeout", "idle_transaction_timeout"};
}

ServerSettings readServerSettings(const ConfigSection& config, int default_port,
                                  const std::set<std::string>& plugin_keys) {
  std::set<std::string> keys = serverSettingKeys();
  keys.insert(plugin_keys.begin(), plugin_keys.end());
  config.rejectUnknownKeys(keys);
  ServerSettings settings;
  settings.host = config.getString("host", "127.0.0.1");
  settings.port = static_cast<int>(config.getInt("port", default_port, 1, 65535));
  settings.database = config.requireString("database", "the name of the database to use");
  settings.user = config.requireString("user", "the database user to log in as");
  settings.password = config.getSecret("password", "BUSBAR_STORAGE_PASSWORD");
  settings.pool_min = static_cast<int>(config.getInt("pool.min", 1, 0, 1024));
  settings.pool_max = static_cast<int>(config.getInt("pool.max", 32, 1, 1024));
  if (settings.pool_min > settings.pool_max) {
    config.fail("pool.min", "must not exceed pool.max (" + std::to_string(settings.pool_max) + ")",
                std::to_string(settings.pool_min));
  }
  settings.connect_timeout_seconds = static_cast<int>(config.getInt("connect_timeout", 2, 1, 300));
  settings.idle_transaction_timeout_seconds =
      static_cast<int>(config.getInt("idle_transaction_timeout", 1, 0, 3600));
  return settings;
}

}  // namespace busbar::sql

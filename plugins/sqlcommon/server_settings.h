// ServerSettings: the [storage] keys shared by the storage plugins that talk to a database
// server (mysql, postgresql), read and validated from the config section.
//
// Plain value; the password comes from BUSBAR_STORAGE_PASSWORD when set, else from the file,
// and is never logged: describe() leaves it out.
#pragma once

#include <set>
#include <string>

#include "busbar/config.h"

namespace busbar::sql {

struct ServerSettings {
  std::string host;
  int port = 0;
  std::string database;
  std::string user;
  std::string password;
  int pool_min = 1;
  int pool_max = 32;
  int connect_timeout_seconds = 2;
  // Seconds a transaction may sit idle (its client sends nothing) before the database server
  // ends its session, rolling it back and releasing its locks; 0: never. A frozen process, a
  // paused VM or a half-open link would otherwise hold its locks for as long as it lasts, and
  // every server waiting on them (the event log's head row among them) with it.
  int idle_transaction_timeout_seconds = 1;
  int statement_cache = 0;  // prepared statements kept per session (the statement_cache key)

  // "user@host:port/database", without the password.
  std::string describe() const;
};

// The keys readServerSettings accepts.
std::set<std::string> serverSettingKeys();

// Reads host, port, database, user, password, pool.min, pool.max and connect_timeout; rejects
// keys that are neither these nor `plugin_keys` (read by the plugin itself). Throws ConfigError
// naming the key and what is allowed.
ServerSettings readServerSettings(const ConfigSection& config, int default_port,
                                  const std::set<std::string>& plugin_keys = {});

}  // namespace busbar::sql

// OdbcSettings: the [storage] keys of the odbc plugin, read and checked in init(). A bad key
// throws ConfigError naming the key, what it must be and how to fix it (the host exits 2).
#pragma once

#include <string>

#include <busbar/config.h>

namespace odbc_storage {

struct OdbcSettings {
  std::string connection;                    // an ODBC connection string (DRIVER=...; or DSN=...;)
  std::string described;                     // the connection string without its password, for logs
  int pool_max = 16;                         // sessions open at most
  int connect_timeout_seconds = 5;           // the ODBC login timeout of a new session
  int idle_transaction_timeout_seconds = 1;  // PostgreSQL's idle_in_transaction_session_timeout
};

// Reads [storage]; throws ConfigError on an unknown key or a bad value.
OdbcSettings readOdbcSettings(const busbar::ConfigSection& section);

// `connection` with the value of every PWD= or PASSWORD= attribute replaced by "***".
std::string withoutPassword(const std::string& connection);

}  // namespace odbc_storage

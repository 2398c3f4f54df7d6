// Why a storage plugin could not open its first session, in an operator's terms: the config file
// and section, the server, database and user it tried, the cause in a word, and the fix.
//
// A cause that the config can fix (a wrong password, an unknown user or database, a host name
// that does not resolve, TLS) is a ConfigError, so that the host exits 2; one of the environment
// (the server refuses or does not answer) stays StorageUnavailable, exit 1.
#pragma once

#include <string>

#include "busbar/errors.h"
#include "server_settings.h"

namespace busbar::sql {

enum class ConnectCause {
  kRefused,          // nothing listens at host:port
  kTimeout,          // no answer within connect_timeout
  kUnknownHost,      // the host name does not resolve
  kAuthentication,   // a wrong password, or a user the server does not know
  kNoPassword,       // the server wants a password and none was given
  kNoDatabase,       // the database does not exist
  kNoDatabaseRight,  // the database does not exist or the user may not use it (MariaDB tells
                     // no more)
  kTls,              // the TLS handshake or its certificates failed
  kLoginMethod,      // the server asked for a login method the TLS settings do not allow (mysql:
                     // one that may send the password itself, with ssl_mode required, verify_ca)
  kOther,
};

// The cause of `message`, the driver's error text ("mysql" or "postgresql").
ConnectCause classifyConnectFailure(const std::string& driver, const std::string& message);

// Throws the operator's version of `failure`, which opening the first session of `driver` with
// `settings`, read from [storage] of `config_file`, threw.
[[noreturn]] void throwConnectFailure(const std::string& driver, const ServerSettings& settings,
                                      const std::string& config_file,
                                      const StorageUnavailable& failure);

}  // namespace busbar::sql

#include "connect_failure.h"

#include <Poco/String.h>

namespace busbar::sql {
namespace {

bool has(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

}  // namespace

ConnectCause classifyConnectFailure(const std::string& driver, const std::string& message) {
  const std::string text = Poco::toLower(message);
  // Only what the TLS settings or certificates decide; a TLS session the server dropped (it
  // restarted: "SSL SYSCALL error", "SSL connection has been closed unexpectedly") is transient.
  for (const char* reason :
       {"certificate verify failed", "does not match host name", "valid client certificate",
        "server does not support ssl", "root certificate file", "private key file",
        "certificate file", "certificate present, but not private key", "ssl is not enabled",
        "tls/ssl connection has been closed", "tls/ssl error"}) {
    if (has(text, reason)) return ConnectCause::kTls;
  }
  if (driver == "mysql") {
    if (has(text, "restricted_auth")) return ConnectCause::kLoginMethod;
    if (has(text, "access denied") && has(text, "to database")) {
      return ConnectCause::kNoDatabaseRight;
    }
    if (has(text, "access denied")) return ConnectCause::kAuthentication;
    if (has(text, "unknown database")) return ConnectCause::kNoDatabase;
    if (has(text, "unknown mysql server host") || has(text, "unknown server host")) {
      return ConnectCause::kUnknownHost;
    }
    if (has(text, "timed out") || has(text, "timeout")) return ConnectCause::kTimeout;
    if (has(text, "can't connect") || has(text, "refused")) return ConnectCause::kRefused;
    return ConnectCause::kOther;
  }
  if (has(text, "no password supplied")) return ConnectCause::kNoPassword;
  if (has(text, "password authentication failed") || has(text, "role") ||
      has(text, "authentication failed")) {
    return ConnectCause::kAuthentication;
  }
  if (has(text, "database") && has(text, "does not exist")) return ConnectCause::kNoDatabase;
  if (has(text, "could not translate host name")) return ConnectCause::kUnknownHost;
  if (has(text, "timeout expired") || has(text, "timed out")) return ConnectCause::kTimeout;
  if (has(text, "connection refused")) return ConnectCause::kRefused;
  return ConnectCause::kOther;
}

void throwConnectFailure(const std::string& driver, const ServerSettings& settings,
                         const std::string& config_file, const StorageUnavailable& failure) {
  const std::string server = settings.host + ":" + std::to_string(settings.port);
  const std::string password_fix =
      "set the password in the environment variable BUSBAR_STORAGE_PASSWORD (or [storage] "
      "password)";
  std::string cause;
  std::string fix;
  bool config_fixes_it = true;
  switch (classifyConnectFailure(driver, failure.what())) {
    case ConnectCause::kRefused:
      cause = "refused: nothing listens at " + server;
      fix = "start the " + driver + " server there, or correct [storage] host and port";
      config_fixes_it = false;
      break;
    case ConnectCause::kTimeout:
      cause = "no answer from " + server + " within " +
              std::to_string(settings.connect_timeout_seconds) + " s";
      fix =
          "check that the server runs and that nothing in between drops the connection, or "
          "correct [storage] host and port";
      config_fixes_it = false;
      break;
    case ConnectCause::kUnknownHost:
      cause = "unknown host: '" + settings.host + "' does not resolve";
      fix = "correct [storage] host";
      break;
    case ConnectCause::kAuthentication:
      cause = "wrong password or unknown user '" + settings.user + "'";
      fix = "check [storage] user, and " + password_fix +
            "; the user needs the right to connect to " + settings.database;
      // MariaDB says no more when the user must present a client certificate (REQUIRE X509).
      if (driver == "mysql") {
        fix +=
            " (from this host, and with ssl_cert and ssl_key when the server requires a client "
            "certificate)";
      }
      break;
    case ConnectCause::kNoPassword:
      cause = "no password: the server asks for one and none was given";
      fix = password_fix;
      break;
    case ConnectCause::kNoDatabase:
      cause = "no such database '" + settings.database + "'";
      fix = "create it (scripts/services/" + std::string(driver == "mysql" ? "mariadb" : driver) +
            ".sh database makes one for development), or correct [storage] database";
      break;
    case ConnectCause::kNoDatabaseRight:
      cause = "no such database '" + settings.database + "', or user '" + settings.user +
              "' may not use it";
      fix =
          "create it and grant the user its rights (scripts/services/mariadb.sh database "
          "does both for development), or correct [storage] database";
      break;
    case ConnectCause::kTls:
      cause = "TLS failed";
      fix = driver == "postgresql"
                ? "check [storage] sslmode and sslrootcert (the file of the CA that signed the "
                  "server's certificate; with verify-full the certificate must also name [storage] "
                  "host), sslcert and sslkey, and the server's ssl settings"
                : "check [storage] ssl_mode and ssl_ca (the file of the CA that signed the "
                  "server's certificate; with verify_identity the certificate must also name "
                  "[storage] host), ssl_cert and ssl_key, and the server's ssl settings";
      break;
    case ConnectCause::kLoginMethod:
      cause =
          "the server asked for a login method that may send the password itself, which "
          "ssl_mode required and verify_ca refuse (it may not be the server: those modes do not "
          "check who answers; libmariadb's message may not name the method asked for)";
      fix =
          "set [storage] ssl_mode = verify_identity, or have the database's user log in with "
          "mysql_native_password or ed25519";
      break;
    case ConnectCause::kOther:
      cause = "failed";
      fix = "see the driver's message above; check [storage] host, port, database and user";
      config_fixes_it = false;
      break;
  }
  const std::string message = config_file + ": [storage] cannot connect to " + driver + " at " +
                              settings.describe() + ": " + cause + " (" + failure.what() +
                              "). Fix: " + fix + ".";
  if (config_fixes_it) throw ConfigError(message);
  throw StorageUnavailable(message);
}

}  // namespace busbar::sql

// PostgresqlTls: the TLS keys of [storage] for PostgreSQL, read, checked and turned into libpq's
// connection options.
//
// The keys are libpq's own: sslmode (disable, allow, prefer, require, verify-ca, verify-full;
// unset: libpq's own default, PGSSLMODE or else prefer), sslrootcert (the CA file that verifies the
// server), sslcert and sslkey (a client certificate and its key, both or neither). Files are
// checked when the config is read, so that a missing or unreadable file, or a key others may read,
// stops the host naming the key, the file and the fix before any connection is tried. Plain value
// type.
#pragma once

#include <string>

#include "busbar/config.h"

namespace busbar::postgresql {

struct PostgresqlTls {
  std::string mode;       // "" leaves it to libpq (PGSSLMODE, else prefer)
  std::string root_cert;  // absolute path, or "" (libpq's ~/.postgresql/root.crt)
  std::string cert;
  std::string key;
};

// The keys readPostgresqlTls reads.
inline const char* const kPostgresqlTlsKeys[] = {"sslmode", "sslrootcert", "sslcert", "sslkey"};

// Reads and checks the TLS keys of `config`. Throws ConfigError naming the key, the file and why:
// an unknown mode, verify-ca or verify-full without sslrootcert, a file that is missing or
// unreadable, a path with a space, sslcert without sslkey (or the reverse), a key file that the
// group or others may read (libpq refuses it).
PostgresqlTls readPostgresqlTls(const ConfigSection& config);

// " sslmode='...' sslrootcert='...' ..." for a libpq conninfo; the keys not set are left out, so
// that libpq's environment (PGSSLMODE, PGSSLROOTCERT) still applies to them.
std::string tlsConninfo(const PostgresqlTls& tls);

}  // namespace busbar::postgresql

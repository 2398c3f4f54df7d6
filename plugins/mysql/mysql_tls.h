// MysqlTls: the TLS keys of [storage] for MySQL and MariaDB, read and checked.
//
// The keys are the MySQL client's own (its --ssl-mode and --ssl-ca, --ssl-cert, --ssl-key):
// ssl_mode (disabled, required, verify_ca, verify_identity; unset: disabled, libmariadb's own
// default), ssl_ca (the CA file that verifies the server), ssl_cert and ssl_key (a client
// certificate and its key, both or neither). `required` encrypts without checking who answers;
// verify_ca also checks that ssl_ca signed the server's certificate, verify_identity also that it
// names [storage] host. Files are checked when the config is read, so that a missing or unreadable
// file, or a key others may read, stops the host naming the key, the file and the fix before any
// connection is tried. Plain value type.
#pragma once

#include <string>

#include "busbar/config.h"

namespace busbar::mysql {

enum class MysqlTlsMode { kDisabled, kRequired, kVerifyCa, kVerifyIdentity };

struct MysqlTls {
  MysqlTlsMode mode = MysqlTlsMode::kDisabled;
  std::string ca;  // absolute path, or ""
  std::string cert;
  std::string key;
};

// The keys readMysqlTls reads.
inline const char* const kMysqlTlsKeys[] = {"ssl_mode", "ssl_ca", "ssl_cert", "ssl_key"};

// Reads and checks the TLS keys of `config`. Throws ConfigError naming the key, the file and why:
// an unknown mode, verify_ca or verify_identity without ssl_ca, a file that is missing or
// unreadable, ssl_cert without ssl_key (or the reverse), a key file that the group or others may
// read, files set while ssl_mode = disabled.
MysqlTls readMysqlTls(const ConfigSection& config);

// The value of ssl_mode that `mode` is read from: "disabled", "required", ...
const char* tlsModeName(MysqlTlsMode mode);

}  // namespace busbar::mysql

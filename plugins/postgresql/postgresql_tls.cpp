#include "postgresql_tls.h"

#include "config_files.h"
#include "conninfo.h"

namespace busbar::postgresql {

PostgresqlTls readPostgresqlTls(const ConfigSection& config) {
  PostgresqlTls tls;
  if (config.has("sslmode")) {
    tls.mode = config.getChoice(
        "sslmode", "", {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"});
  }
  tls.root_cert = config.getPath("sslrootcert", "");
  tls.cert = config.getPath("sslcert", "");
  tls.key = config.getPath("sslkey", "");
  const bool verifies = tls.mode == "verify-ca" || tls.mode == "verify-full";
  if (verifies && tls.root_cert.empty()) {
    config.fail("sslrootcert",
                "is required with sslmode = " + tls.mode +
                    ": the file of the CA that signed the server's certificate",
                "nothing");
  }
  if (tls.cert.empty() != tls.key.empty()) {
    config.fail(tls.cert.empty() ? "sslcert" : "sslkey",
                "goes with " + std::string(tls.cert.empty() ? "sslkey" : "sslcert") +
                    ": a client certificate needs its key, and a key its certificate",
                "nothing");
  }
  if (tls.mode == "disable" && (!tls.root_cert.empty() || !tls.cert.empty())) {
    config.fail("sslmode",
                "disables TLS, yet sslrootcert or sslcert is set: remove them, or choose "
                "verify-full",
                "'disable'");
  }
  using plugins::FileSecrecy;
  if (!tls.root_cert.empty()) {
    plugins::requireReadableFile(config, "sslrootcert", tls.root_cert, FileSecrecy::kPublic, false);
  }
  if (!tls.cert.empty()) {
    plugins::requireReadableFile(config, "sslcert", tls.cert, FileSecrecy::kPublic, false);
  }
  if (!tls.key.empty()) {
    plugins::requireReadableFile(config, "sslkey", tls.key, FileSecrecy::kPrivateKey, false);
  }
  return tls;
}

std::string tlsConninfo(const PostgresqlTls& tls) {
  std::string text;
  if (!tls.mode.empty()) text += " sslmode=" + conninfoValue(tls.mode);
  if (!tls.root_cert.empty()) text += " sslrootcert=" + conninfoValue(tls.root_cert);
  if (!tls.cert.empty()) text += " sslcert=" + conninfoValue(tls.cert);
  if (!tls.key.empty()) text += " sslkey=" + conninfoValue(tls.key);
  return text;
}

}  // namespace busbar::postgresql

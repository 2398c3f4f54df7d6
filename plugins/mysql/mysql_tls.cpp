#include "mysql_tls.h"

#include "config_files.h"

namespace busbar::mysql {
namespace {

constexpr MysqlTlsMode kModes[] = {MysqlTlsMode::kDisabled, MysqlTlsMode::kRequired,
                                   MysqlTlsMode::kVerifyCa, MysqlTlsMode::kVerifyIdentity};

}  // namespace

const char* tlsModeName(MysqlTlsMode mode) {
  switch (mode) {
    case MysqlTlsMode::kDisabled:
      return "disabled";
    case MysqlTlsMode::kRequired:
      return "required";
    case MysqlTlsMode::kVerifyCa:
      return "verify_ca";
    case MysqlTlsMode::kVerifyIdentity:
      return "verify_identity";
  }
  return "disabled";
}

MysqlTls readMysqlTls(const ConfigSection& config) {
  MysqlTls tls;
  std::vector<std::string> names;
  for (MysqlTlsMode mode : kModes) names.emplace_back(tlsModeName(mode));
  const std::string mode = config.getChoice("ssl_mode", "disabled", names);
  for (MysqlTlsMode candidate : kModes) {
    if (mode == tlsModeName(candidate)) tls.mode = candidate;
  }
  tls.ca = config.getPath("ssl_ca", "");
  tls.cert = config.getPath("ssl_cert", "");
  tls.key = config.getPath("ssl_key", "");
  const bool verifies =
      tls.mode == MysqlTlsMode::kVerifyCa || tls.mode == MysqlTlsMode::kVerifyIdentity;
  if (verifies && tls.ca.empty()) {
    config.fail("ssl_ca",
                "is required with ssl_mode = " + mode +
                    ": the file of the CA that signed the server's certificate",
                "nothing");
  }
  if (tls.cert.empty() != tls.key.empty()) {
    config.fail(tls.cert.empty() ? "ssl_cert" : "ssl_key",
                "goes with " + std::string(tls.cert.empty() ? "ssl_key" : "ssl_cert") +
                    ": a client certificate needs its key, and a key its certificate",
                "nothing");
  }
  if (tls.mode == MysqlTlsMode::kDisabled &&
      (!tls.ca.empty() || !tls.cert.empty() || !tls.key.empty())) {
    config.fail("ssl_mode",
                "leaves TLS off, yet ssl_ca, ssl_cert or ssl_key is set: choose verify_identity "
                "(or required, verify_ca), or remove them",
                "'disabled'");
  }
  using plugins::FileSecrecy;
  // The paths reach libmariadb as they are (mysql_optionsv), not through a connection string.
  if (!tls.ca.empty()) {
    plugins::requireReadableFile(config, "ssl_ca", tls.ca, FileSecrecy::kPublic, true);
  }
  if (!tls.cert.empty()) {
    plugins::requireReadableFile(config, "ssl_cert", tls.cert, FileSecrecy::kPublic, true);
  }
  if (!tls.key.empty()) {
    plugins::requireReadableFile(config, "ssl_key", tls.key, FileSecrecy::kPrivateKey, true);
  }
  return tls;
}

}  // namespace busbar::mysql

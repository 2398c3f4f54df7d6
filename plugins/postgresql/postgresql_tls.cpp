#include "postgresql_tls.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "conninfo.h"

namespace busbar::postgresql {
namespace {

// A file libpq will open: it exists, is a regular file and this process can read it. Checked now,
// so that the error names the key and the file instead of a failed connection later.
void requireReadableFile(const ConfigSection& config, const std::string& key,
                         const std::string& path, bool secret) {
  if (path.find_first_of(" \t") != std::string::npos) {
    config.fail(key,
                "must be a path without spaces (Poco's PostgreSQL connection string cannot carry "
                "them)",
                "'" + path + "'");
  }
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    config.fail(key, "must name a file this server can read",
                "'" + path + "': " + std::strerror(errno));
  }
  if (!S_ISREG(info.st_mode)) {
    config.fail(key, "must name a regular file", "'" + path + "', which is not one");
  }
  if (::access(path.c_str(), R_OK) != 0) {
    config.fail(
        key, "must name a file this server can read",
        "'" + path + "': " + std::strerror(errno) + " (give busbar's user read access to it)");
  }
  // libpq refuses a private key the group or others may read (unless root owns it and the group
  // may only read it); say so now, with the fix.
  if (secret && (info.st_mode & (S_IRWXG | S_IRWXO)) != 0 &&
      !(info.st_uid == 0 && (info.st_mode & (S_IWGRP | S_IXGRP | S_IRWXO)) == 0)) {
    config.fail(key, "must name a key file only its owner may read (libpq refuses others)",
                "'" + path + "' with mode " + std::to_string((info.st_mode >> 6) & 7) +
                    std::to_string((info.st_mode >> 3) & 7) + std::to_string(info.st_mode & 7) +
                    " (chmod 600 it)");
  }
}

}  // namespace

PostgresqlTls readPostgresqlTls(const ConfigSection& config) {
  PostgresqlTls tls;
  tls.mode = config.getChoice(
      "sslmode", "prefer", {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"});
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
  if (!tls.root_cert.empty()) requireReadableFile(config, "sslrootcert", tls.root_cert, false);
  if (!tls.cert.empty()) requireReadableFile(config, "sslcert", tls.cert, false);
  if (!tls.key.empty()) requireReadableFile(config, "sslkey", tls.key, true);
  return tls;
}

std::string tlsConninfo(const PostgresqlTls& tls) {
  std::string text = " sslmode=" + conninfoValue(tls.mode);
  if (!tls.root_cert.empty()) text += " sslrootcert=" + conninfoValue(tls.root_cert);
  if (!tls.cert.empty()) text += " sslcert=" + conninfoValue(tls.cert);
  if (!tls.key.empty()) text += " sslkey=" + conninfoValue(tls.key);
  return text;
}

}  // namespace busbar::postgresql

// readPostgresqlTls: the TLS keys of [storage] for PostgreSQL, and what an operator gets wrong
// about them, refused when the config is read with the key, the file and the fix.
#include "postgresql_tls.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tls_settings_fixture.h"

namespace busbar::postgresql {
namespace {

class PostgresqlTlsSettingsTest
    : public busbar::testing::TlsSettingsFixture<PostgresqlTls, readPostgresqlTls> {};

TEST_F(PostgresqlTlsSettingsTest, LeavesWhatIsNotSetToLibpqAndReadsEveryKey) {
  PostgresqlTls tls = read("");
  EXPECT_EQ(tls.mode, "");
  EXPECT_EQ(tlsConninfo(tls), "");  // PGSSLMODE and PGSSLROOTCERT still apply
  // Relative paths resolve against the config file's folder.
  tls = read("sslmode = verify-full\nsslrootcert = ca.crt\nsslcert = client.crt\nsslkey = " + key_ +
             "\n");
  EXPECT_EQ(tls.root_cert, ca_);
  EXPECT_EQ(tls.cert, cert_);
  EXPECT_EQ(tlsConninfo(tls), " sslmode='verify-full' sslrootcert='" + ca_ + "' sslcert='" + cert_ +
                                  "' sslkey='" + key_ + "'");
}

TEST_F(PostgresqlTlsSettingsTest, RefusesWhatAnOperatorGetsWrongNamingKeyFileAndFix) {
  EXPECT_EQ(errorOf("sslmode = verify\n"),
            file() +
                "sslmode must be one of disable, allow, prefer, require, verify-ca, "
                "verify-full; found 'verify'");
  EXPECT_EQ(errorOf("sslmode = verify-full\n"),
            file() +
                "sslrootcert is required with sslmode = verify-full: the file of the CA "
                "that signed the server's certificate; found nothing");
  EXPECT_EQ(errorOf("sslmode = verify-ca\nsslrootcert = missing.crt\n"),
            file() + "sslrootcert must name a file this server can read; found '" + dir_.path() +
                "/missing.crt': No such file or directory");
  EXPECT_EQ(errorOf("sslmode = require\nsslrootcert = " + dir_.path() + "\n"),
            file() + "sslrootcert must name a regular file; found '" + dir_.path() +
                "', which is not one");
  EXPECT_EQ(errorOf("sslcert = client.crt\n"),
            file() +
                "sslkey goes with sslcert: a client certificate needs its key, and a key "
                "its certificate; found nothing");
  EXPECT_EQ(errorOf("sslmode = disable\nsslrootcert = ca.crt\n"),
            file() +
                "sslmode disables TLS, yet sslrootcert or sslcert is set: remove them, or "
                "choose verify-full; found 'disable'");
  ::chmod(key_.c_str(), 0644);
  EXPECT_EQ(errorOf("sslcert = client.crt\nsslkey = client.key\n"),
            file() + "sslkey must name a key file only its owner may read; found '" + key_ +
                "' with mode 644 (chmod 600 it)");
  const std::string spaced = dir_.write("a b.crt", "x");
  EXPECT_EQ(errorOf("sslmode = verify-full\nsslrootcert = " + spaced + "\n"),
            file() +
                "sslrootcert must be a path without spaces (the connection string cannot "
                "carry them); found '" +
                spaced + "'");
}

}  // namespace
}  // namespace busbar::postgresql

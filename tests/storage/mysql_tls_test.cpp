// readMysqlTls: the TLS keys of [storage] for MySQL and MariaDB, and what an operator gets wrong
// about them, refused when the config is read with the key, the file and the fix.
#include "mysql_tls.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tls_connection_handler.h"
#include "tls_settings_fixture.h"

namespace busbar::mysql {
namespace {

class MysqlTlsSettingsTest : public busbar::testing::TlsSettingsFixture<MysqlTls, readMysqlTls> {};

TEST_F(MysqlTlsSettingsTest, IsOffUnlessSetAndReadsEveryKey) {
  MysqlTls tls = read("");
  EXPECT_EQ(tls.mode, MysqlTlsMode::kDisabled);
  EXPECT_EQ(tlsConnectHost("db.example", tls), "db.example");
  // Relative paths resolve against the config file's folder; a space is no trouble here.
  const std::string spaced = dir_.write("a b.crt", "x");
  tls = read("ssl_mode = verify_identity\nssl_ca = " + spaced +
             "\nssl_cert = client.crt\nssl_key = " + key_ + "\n");
  EXPECT_EQ(tls.mode, MysqlTlsMode::kVerifyIdentity);
  EXPECT_EQ(tls.ca, spaced);
  EXPECT_EQ(tls.cert, cert_);
  EXPECT_EQ(tls.key, key_);
  EXPECT_STREQ(tlsModeName(tls.mode), "verify_identity");
  // Each Connection gets a profile of its own that the connection handler finds by the host.
  const std::string first = tlsConnectHost("db.example", tls);
  const std::string second = tlsConnectHost("db.example", tls);
  EXPECT_EQ(first.rfind("busbar_tls://", 0), 0u) << first;
  EXPECT_NE(first, second);
  EXPECT_EQ(first.substr(first.size() - 11), "@db.example");
  EXPECT_EQ(read("ssl_mode = required\n").mode, MysqlTlsMode::kRequired);
  EXPECT_EQ(read("ssl_mode = verify_ca\nssl_ca = ca.crt\n").mode, MysqlTlsMode::kVerifyCa);
}

TEST_F(MysqlTlsSettingsTest, RefusesWhatAnOperatorGetsWrongNamingKeyFileAndFix) {
  EXPECT_EQ(errorOf("ssl_mode = verify-full\n"),
            file() +
                "ssl_mode must be one of disabled, required, verify_ca, verify_identity; found "
                "'verify-full'");
  EXPECT_EQ(errorOf("ssl_mode = verify_identity\n"),
            file() +
                "ssl_ca is required with ssl_mode = verify_identity: the file of the CA that "
                "signed the server's certificate; found nothing");
  EXPECT_EQ(errorOf("ssl_mode = verify_ca\nssl_ca = missing.crt\n"),
            file() + "ssl_ca must name a file this server can read; found '" + dir_.path() +
                "/missing.crt': No such file or directory");
  EXPECT_EQ(errorOf("ssl_mode = required\nssl_key = client.key\n"),
            file() +
                "ssl_cert goes with ssl_key: a client certificate needs its key, and a key its "
                "certificate; found nothing");
  EXPECT_EQ(errorOf("ssl_ca = ca.crt\n"),
            file() +
                "ssl_mode leaves TLS off, yet ssl_ca, ssl_cert or ssl_key is set: choose "
                "verify_identity (or required, verify_ca), or remove them; found 'disabled'");
  ::chmod(key_.c_str(), 0644);
  EXPECT_EQ(errorOf("ssl_mode = required\nssl_cert = client.crt\nssl_key = client.key\n"),
            file() + "ssl_key must name a key file only its owner may read; found '" + key_ +
                "' with mode 644 (chmod 600 it)");
}

}  // namespace
}  // namespace busbar::mysql

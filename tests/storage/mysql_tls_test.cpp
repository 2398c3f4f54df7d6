// readMysqlTls: the TLS keys of [storage] for MySQL and MariaDB, and what an operator gets wrong
// about them, refused when the config is read with the key, the file and the fix.
#include "mysql_tls.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "mysql_storage.h"
#include "tls_connection_handler.h"
#include "tls_settings_fixture.h"

namespace busbar::mysql {
namespace {

class MysqlTlsSettingsTest : public busbar::testing::TlsSettingsFixture<MysqlTls, readMysqlTls> {};

TEST_F(MysqlTlsSettingsTest, IsOffUnlessSetAndReadsEveryKey) {
  MysqlTls tls = read("");
  EXPECT_EQ(tls.mode, MysqlTlsMode::kDisabled);
  EXPECT_EQ(hostWithTlsProfile("db.example", tls), "db.example");
  // Relative paths resolve against the config file's folder; a space is no trouble here.
  const std::string spaced = dir_.write("a b.crt", "x");
  tls = read("ssl_mode = verify_identity\nssl_ca = " + spaced +
             "\nssl_cert = client.crt\nssl_key = " + key_ + "\n");
  EXPECT_EQ(tls.mode, MysqlTlsMode::kVerifyIdentity);
  EXPECT_EQ(tls.ca, spaced);
  EXPECT_EQ(tls.cert, cert_);
  EXPECT_EQ(tls.key, key_);
  EXPECT_STREQ(tlsModeName(tls.mode), "verify_identity");
  // The connection handler finds the profile by the host: one per distinct TLS setting.
  const std::string first = hostWithTlsProfile("db.example", tls);
  EXPECT_EQ(first.rfind("busbar_tls://", 0), 0u) << first;
  EXPECT_EQ(first.substr(first.size() - 11), "@db.example");
  EXPECT_EQ(hostWithTlsProfile("other.example", tls),
            first.substr(0, first.size() - 10) + "other.example");
  MysqlTls other = tls;
  other.mode = MysqlTlsMode::kVerifyCa;
  EXPECT_NE(hostWithTlsProfile("db.example", other), first);
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

// readMysqlSettings, for what libmariadb would read as something else than one host.
class MysqlSettingsTest
    : public busbar::testing::TlsSettingsFixture<MysqlSettings, readMysqlSettings> {};

TEST_F(MysqlSettingsTest, RefusesAHostThatLibmariadbWouldReadAsAHandlerOrAList) {
  const std::string server = "database = busbar\nuser = busbar\n";
  EXPECT_EQ(read(server + "host = db.example\n").server.host, "db.example");
  EXPECT_EQ(errorOf(server + "host = busbar_tls://0@db.example\n"),
            file() +
                "host must be one host name or address, without '://' or ','; found "
                "'busbar_tls://0@db.example'");
  EXPECT_EQ(errorOf(server + "host = a.example,b.example\n"),
            file() +
                "host must be one host name or address, without '://' or ','; found "
                "'a.example,b.example'");
}

}  // namespace
}  // namespace busbar::mysql

// PostgreSQL over TLS (label tls): a PostgreSQL server of the test's own that refuses connections
// without TLS and asks for a client certificate, a CA of the test's own that signed the server's
// certificate (for 127.0.0.1) and the client's, and the real busbar binary with [storage]
// sslmode = verify-full. The right CA serves, every session busbar opens is encrypted; a wrong CA,
// a host name the certificate does not name, and a missing client certificate each stop the host
// (exit 2) with libpq's reason and the fix.
#include <gtest/gtest.h>

#include "private_database.h"
#include "test_certificates.h"

namespace busbar::testing {
namespace {

class PostgresqlTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    database_ = new PrivateDatabase("postgresql");
    certificates_ = new TestCertificates;
    other_ca_ = new TestCertificates;
    const IssuedCertificate server = certificates_->issue("server", "127.0.0.1", "IP:127.0.0.1");
    client_ = new IssuedCertificate(certificates_->issue("client", "busbar", ""));
    database_->enableTls(server.cert, server.key, certificates_->caFile());
    dir_ = new TempDir;
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete client_;
    delete other_ca_;
    delete certificates_;
    delete database_;
  }

  // A host.conf for local + postgresql + users whose [storage] ends with `tls` (its TLS keys).
  static std::string config(const std::string& name, const std::string& tls,
                            const std::string& host = "127.0.0.1") {
    auto keys = database_->storageKeys();
    return dir_->write(name + ".conf",
                       "[host]\nplugins = local, postgresql, users\n"
                       "[event_bus]\ntransport = local\n"
                       "[storage]\ndriver = postgresql\nhost = " +
                           host + "\nport = " + keys.at("port") +
                           "\ndatabase = " + keys.at("database") + "\nuser = " + keys.at("user") +
                           "\npassword = " + keys.at("password") + "\n" + tls);
  }

  static std::string verifyFull(const std::string& ca) {
    return "sslmode = verify-full\nsslrootcert = " + ca + "\nsslcert = " + client_->cert +
           "\nsslkey = " + client_->key + "\n";
  }

  static PrivateDatabase* database_;
  static TestCertificates* certificates_;
  static TestCertificates* other_ca_;
  static IssuedCertificate* client_;
  static TempDir* dir_;
};

PrivateDatabase* PostgresqlTlsTest::database_ = nullptr;
TestCertificates* PostgresqlTlsTest::certificates_ = nullptr;
TestCertificates* PostgresqlTlsTest::other_ca_ = nullptr;
IssuedCertificate* PostgresqlTlsTest::client_ = nullptr;
TempDir* PostgresqlTlsTest::dir_ = nullptr;

TEST_F(PostgresqlTlsTest, VerifyFullWithTheRightCaServesAndEverySessionIsEncrypted) {
  ServerProcess server(config("right", verifyFull(certificates_->caFile())));
  server.start();
  ASSERT_EQ(server.request("PUT", "/users/tls", R"({"name":"Over TLS"})").status, 201);
  EXPECT_EQ(server.request("GET", "/users/tls").status, 200);
  // Every session busbar holds, as the server sees it: encrypted, with the client's certificate.
  const std::string sessions = database_->sql(
      "SELECT count(*), bool_and(s.ssl), bool_and(s.client_dn = '/CN=busbar') FROM "
      "pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.application_name = 'busbar'");
  EXPECT_NE(sessions.rfind("0|", 0), 0u) << "no session of busbar's: " << sessions;
  EXPECT_NE(sessions.find("|t|t"), std::string::npos) << sessions;
  EXPECT_NE(server.output().find("(sslmode verify-full)"), std::string::npos) << server.output();
  EXPECT_EQ(server.stop(), 0) << server.output();
}

TEST_F(PostgresqlTlsTest, AWrongCaIsRefusedNamingTheReasonAndTheFix) {
  const std::string output =
      refusedStart(config("wrong-ca", verifyFull(other_ca_->caFile())));
  EXPECT_NE(output.find("[storage] cannot connect to postgresql"), std::string::npos) << output;
  EXPECT_NE(output.find("TLS failed"), std::string::npos) << output;
  EXPECT_NE(output.find("certificate verify failed"), std::string::npos) << output;
  EXPECT_NE(output.find("Fix: check [storage] sslmode and sslrootcert"), std::string::npos)
      << output;
}

TEST_F(PostgresqlTlsTest, AHostNameTheCertificateDoesNotNameIsRefused) {
  const std::string output = refusedStart(
      config("wrong-host", verifyFull(certificates_->caFile()), "localhost"));
  EXPECT_NE(output.find("does not match host name \"localhost\""), std::string::npos) << output;
  EXPECT_NE(output.find("the certificate must also name [storage] host"), std::string::npos)
      << output;
}

TEST_F(PostgresqlTlsTest, WithoutTheClientCertificateTheServerAskedForTheHostStops) {
  const std::string output = refusedStart(config(
      "no-client-cert", "sslmode = verify-full\nsslrootcert = " + certificates_->caFile() + "\n"));
  EXPECT_NE(output.find("connection requires a valid client certificate"), std::string::npos)
      << output;
  EXPECT_NE(output.find("TLS failed"), std::string::npos) << output;
}

}  // namespace
}  // namespace busbar::testing

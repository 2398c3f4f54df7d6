// MariaDB over TLS (label tls): a MariaDB server of the test's own that refuses connections
// without TLS (require_secure_transport) and asks busbar's user for a client certificate
// (REQUIRE X509), a CA of the test's own that signed the server's certificate (127.0.0.1 in its
// subject alternative names only) and the client's, and the real busbar binary with [storage]
// ssl_mode = verify_identity. The right CA serves; a wrong CA, a certificate that does not name
// the host, a missing client certificate and a server that offers no TLS each stop the host
// (exit 2) with the reason and the fix, and a server without TLS that asks for the password
// itself gets none.
#include <gtest/gtest.h>

#include "private_database.h"
#include "test_certificates.h"

namespace busbar::testing {
namespace {

class MysqlTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    database_ = new PrivateDatabase("mysql");
    certificates_ = new TestCertificates;
    other_ca_ = new TestCertificates;
    server_ = new IssuedCertificate(certificates_->issue("server", "server", "IP:127.0.0.1"));
    client_ = new IssuedCertificate(certificates_->issue("client", "busbar", ""));
    database_->enableTls(server_->cert, server_->key, certificates_->caFile());
    dir_ = new TempDir;
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete client_;
    delete server_;
    delete other_ca_;
    delete certificates_;
    delete database_;
  }

  // A host.conf for local + mysql + users on `database` whose [storage] ends with `tls`.
  static std::string config(const std::string& name, const std::string& tls,
                            const PrivateDatabase& database = *database_) {
    auto keys = database.storageKeys();
    return dir_->write(name + ".conf",
                       "[host]\nplugins = local, mysql, users\n"
                       "[event_bus]\ntransport = local\n"
                       "[storage]\ndriver = mysql\nhost = 127.0.0.1\nport = " +
                           keys.at("port") + "\ndatabase = " + keys.at("database") + "\nuser = " +
                           keys.at("user") + "\npassword = " + keys.at("password") + "\n" + tls);
  }

  static std::string withClientCertificate(const std::string& mode, const std::string& ca) {
    return "ssl_mode = " + mode + "\n" + (ca.empty() ? "" : "ssl_ca = " + ca + "\n") +
           "ssl_cert = " + client_->cert + "\nssl_key = " + client_->key + "\n";
  }

  static PrivateDatabase* database_;
  static TestCertificates* certificates_;
  static TestCertificates* other_ca_;
  static IssuedCertificate* server_;
  static IssuedCertificate* client_;
  static TempDir* dir_;
};

PrivateDatabase* MysqlTlsTest::database_ = nullptr;
TestCertificates* MysqlTlsTest::certificates_ = nullptr;
TestCertificates* MysqlTlsTest::other_ca_ = nullptr;
IssuedCertificate* MysqlTlsTest::server_ = nullptr;
IssuedCertificate* MysqlTlsTest::client_ = nullptr;
TempDir* MysqlTlsTest::dir_ = nullptr;

TEST_F(MysqlTlsTest, VerifyIdentityWithTheRightCaServesOverTlsOnly) {
  ServerProcess server(
      config("right", withClientCertificate("verify_identity", certificates_->caFile())));
  server.start();
  ASSERT_EQ(server.request("PUT", "/users/tls", R"({"name":"Over TLS"})").status, 201);
  EXPECT_EQ(server.request("GET", "/users/tls").status, 200);
  // busbar's sessions, on a server that admits none without TLS and a client certificate.
  EXPECT_EQ(database_->sql("SELECT @@require_secure_transport, (SELECT ssl_type FROM mysql.user "
                           "WHERE user = 'busbar_private'), (SELECT count(*) > 0 FROM "
                           "information_schema.processlist WHERE user = 'busbar_private')"),
            "1|X509|1\n");
  EXPECT_NE(server.output().find("(ssl_mode verify_identity)"), std::string::npos)
      << server.output();
  EXPECT_EQ(server.stop(), 0) << server.output();
}

TEST_F(MysqlTlsTest, AWrongCaIsRefusedNamingTheReasonAndTheFix) {
  for (const char* mode : {"required", "verify_ca", "verify_identity"}) {
    const std::string output = refusedStart(
        config(std::string("wrong-ca-") + mode, withClientCertificate(mode, other_ca_->caFile())));
    EXPECT_NE(output.find("[storage] cannot connect to mysql"), std::string::npos) << output;
    EXPECT_NE(output.find("TLS failed"), std::string::npos) << output;
    EXPECT_NE(output.find("Fix: check [storage] ssl_mode and ssl_ca"), std::string::npos) << output;
  }
}

TEST_F(MysqlTlsTest, ACertificateThatDoesNotNameTheHostIsRefusedByVerifyIdentityOnly) {
  const IssuedCertificate misnamed =
      certificates_->issue("misnamed", "db.busbar.test", "DNS:db.busbar.test");
  database_->enableTls(misnamed.cert, misnamed.key, certificates_->caFile());
  struct RestoreCertificate {
    ~RestoreCertificate() {
      database_->enableTls(server_->cert, server_->key, certificates_->caFile());
    }
  } restore;
  const std::string output = refusedStart(
      config("misnamed", withClientCertificate("verify_identity", certificates_->caFile())));
  EXPECT_NE(output.find("Validation of SSL server certificate failed"), std::string::npos)
      << output;
  EXPECT_NE(output.find("the certificate must also name [storage] host"), std::string::npos)
      << output;
  // verify_ca checks the chain alone.
  ServerProcess server(
      config("misnamed-ca", withClientCertificate("verify_ca", certificates_->caFile())));
  server.start();
  EXPECT_EQ(server.request("PUT", "/users/ca", R"({"name":"Chain only"})").status, 201);
  EXPECT_EQ(server.stop(), 0) << server.output();
}

TEST_F(MysqlTlsTest, WithoutTheClientCertificateTheUserRequiresTheHostStops) {
  const std::string output = refusedStart(config(
      "no-client-cert", "ssl_mode = verify_identity\nssl_ca = " + certificates_->caFile() + "\n"));
  EXPECT_NE(output.find("Access denied"), std::string::npos) << output;
  EXPECT_NE(output.find("with ssl_cert and ssl_key when the server requires a client certificate"),
            std::string::npos)
      << output;
}

TEST_F(MysqlTlsTest, RequiredEncryptsWithoutACaAndRefusesAServerThatOffersNoTls) {
  ServerProcess server(config("required", withClientCertificate("required", "")));
  server.start();
  EXPECT_EQ(server.request("PUT", "/users/required", R"({"name":"Encrypted"})").status, 201);
  EXPECT_EQ(server.stop(), 0) << server.output();
  // libmariadb refuses a server without TLS by itself only with verify_identity, before the
  // login; with the other modes it logs in in the clear, and busbar refuses the session.
  PrivateDatabase plain("mysql");
  for (const char* mode : {"required", "verify_ca", "verify_identity"}) {
    const std::string output = refusedStart(config(
        std::string("no-tls-") + mode,
        withClientCertificate(mode, std::string(mode) == "required" ? "" : certificates_->caFile()),
        plain));
    EXPECT_NE(output.find("SSL is required, but the server does not support it"), std::string::npos)
        << output;
    EXPECT_NE(output.find("TLS failed"), std::string::npos) << output;
  }
}

TEST_F(MysqlTlsTest, AServerWithoutTlsThatAsksForThePasswordItselfGetsNone) {
  // Whoever answers in the server's place without TLS may ask for the password in clear (PAM's
  // dialog, mysql_clear_password): required and verify_ca log in only by methods that never send
  // it, and refuse the switch.
  PrivateDatabase plain("mysql");
  plain.sql(
      "INSTALL SONAME 'auth_pam'; ALTER USER 'busbar_private'@'127.0.0.1' IDENTIFIED VIA pam");
  for (const char* mode : {"required", "verify_ca"}) {
    const std::string output = refusedStart(config(
        std::string("pam-") + mode,
        withClientCertificate(mode, std::string(mode) == "required" ? "" : certificates_->caFile()),
        plain));
    EXPECT_NE(output.find("couldn't be found in restricted_auth plugin list"), std::string::npos)
        << output;
    EXPECT_NE(output.find("Fix: set [storage] ssl_mode = verify_identity"), std::string::npos)
        << output;
  }
}

TEST_F(MysqlTlsTest, RequiredAndVerifyCaLogInAUserOnEd25519) {
  // The methods required and verify_ca allow are real ones: a user on ed25519 logs in over TLS.
  const std::string password = database_->storageKeys().at("password");
  database_->sql(
      "INSTALL SONAME 'auth_ed25519'; ALTER USER 'busbar_private'@'127.0.0.1' "
      "IDENTIFIED VIA ed25519 USING PASSWORD('" +
      password + "')");
  struct RestoreLogin {
    const std::string& password;
    ~RestoreLogin() {
      database_->sql("ALTER USER 'busbar_private'@'127.0.0.1' IDENTIFIED BY '" + password + "'");
    }
  } restore{password};
  ASSERT_EQ(database_->sql("SELECT plugin, ssl_type FROM mysql.user WHERE user = 'busbar_private'"),
            "ed25519|X509\n");
  for (const char* mode : {"required", "verify_ca"}) {
    ServerProcess server(config(std::string("ed25519-") + mode,
                                withClientCertificate(mode, certificates_->caFile())));
    server.start();
    EXPECT_EQ(server.request("PUT", std::string("/users/ed-") + mode, R"({"name":"Ed"})").status,
              201);
    EXPECT_EQ(server.stop(), 0) << server.output();
  }
}

}  // namespace
}  // namespace busbar::testing

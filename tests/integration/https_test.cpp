// HTTPS on the real binary: curl over the public and admin listeners, a certificate the host
// refuses at start, and a reload (SIGHUP) that serves the renewed certificate. The handshake's
// states, large bodies and stalled handshakes are in host/http/http_tls_test.cpp.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "sqlite_server.h"
#include "test_certificates.h"

namespace busbar::testing {
namespace {

struct CurlResult {
  int exit_code = -1;  // curl's: 0 served, 60 a certificate not trusted, 35 a failed handshake
  std::string output;  // the body, then "\n" and the status
};

// curl ARGS against https://127.0.0.1:PORT/PATH trusting `ca` (empty: plain http://).
CurlResult curl(int port, const std::string& path, const std::string& ca,
                const std::string& args = "") {
  CurlResult result;
  const std::string url =
      (ca.empty() ? "http" : "https") + std::string("://127.0.0.1:") + std::to_string(port) + path;
  result.exit_code = runShell("curl -sS --max-time 10 -w '\\n%{http_code}' " +
                                  (ca.empty() ? std::string() : "--cacert '" + ca + "' ") + args +
                                  " '" + url + "'",
                              result.output);
  return result;
}

class HttpsTest : public ::testing::Test {
 protected:
  void SetUp() override { server_ = certificates_.issue("server", "127.0.0.1", "IP:127.0.0.1"); }

  // local + sqlite + users, the public listener over TLS, the admin one too when `admin_tls`.
  std::string config(bool admin_tls) const {
    const std::string tls =
        "tls = true\ntls_cert_file = " + server_.cert + "\ntls_key_file = " + server_.key + "\n";
    return dir_.write("host.conf", sqliteConfig(dir_.path(), "[http]\n" + tls +
                                                                 (admin_tls ? "[admin]\n" + tls
                                                                            : std::string())));
  }

  // Waits on GET /health over HTTPS, trusting `ca`.
  static ServerProcess::ReadinessProbe servesHttps(const std::string& ca) {
    return [ca](const ServerProcess& server) {
      const CurlResult health = curl(server.port(), "/health", ca, "--max-time 1");
      return health.exit_code == 0 && health.output.size() >= 3 &&
             health.output.compare(health.output.size() - 3, 3, "200") == 0;
    };
  }

  TempDir dir_;
  TestCertificates certificates_;
  IssuedCertificate server_;
};

TEST_F(HttpsTest, CurlWritesAndReadsOverHttpsOnBothListeners) {
  ServerProcess server(config(/*admin_tls=*/true));
  server.setReadinessProbe(servesHttps(certificates_.caFile()));
  server.start();
  const std::string ca = certificates_.caFile();
  CurlResult put = curl(server.port(), "/users/ada", ca,
                        "-X PUT -H 'Content-Type: application/json' -d '{\"name\":\"Ada\"}'");
  ASSERT_EQ(put.exit_code, 0) << put.output;
  EXPECT_NE(put.output.find("\n201"), std::string::npos) << put.output;
  CurlResult get = curl(server.port(), "/users/ada", ca);
  EXPECT_NE(get.output.find("\"name\":\"Ada\""), std::string::npos) << get.output;
  EXPECT_NE(get.output.find("\n200"), std::string::npos) << get.output;
  // Plain HTTP to the HTTPS port: no answer, and the listener counts a failed handshake.
  CurlResult plain = curl(server.port(), "/users/ada", "");
  EXPECT_NE(plain.exit_code, 0) << plain.output;
  CurlResult metrics = curl(server.adminPort(), "/metrics", ca);
  ASSERT_EQ(metrics.exit_code, 0) << metrics.output;
  EXPECT_NE(
      metrics.output.find("busbar_http_tls_handshake_failures_total{listener=\"public\"} 1\n"),
      std::string::npos)
      << metrics.output;
  EXPECT_NE(
      server.output().find("listening on 127.0.0.1:" + std::to_string(server.port()) + " (HTTPS)"),
      std::string::npos)
      << server.output();
  EXPECT_EQ(server.stop(), 0) << server.output();
}

TEST_F(HttpsTest, AKeyOfAnotherCertificateStopsTheHostWithExitCode2NamingTheFiles) {
  const IssuedCertificate other = certificates_.issue("other", "127.0.0.1", "IP:127.0.0.1");
  const std::string file = dir_.write(
      "host.conf", sqliteConfig(dir_.path(), "[http]\ntls = true\ntls_cert_file = " + server_.cert +
                                                 "\ntls_key_file = " + other.key + "\n"));
  std::string output;
  EXPECT_EQ(runBusbar({"--config", file, "--check-config"}, output), 2) << output;
  EXPECT_NE(output.find(file + ": [http] tls_key_file: '" + other.key +
                        "' is not the private key of the certificate in tls_cert_file '" +
                        server_.cert + "'"),
            std::string::npos)
      << output;
}

TEST_F(HttpsTest, AKeyOthersMayReadStopsTheHostWithExitCode2) {
  ::chmod(server_.key.c_str(), 0644);
  const std::string file = config(/*admin_tls=*/false);
  std::string output;
  EXPECT_EQ(runBusbar({"--config", file, "--check-config"}, output), 2) << output;
  EXPECT_NE(
      output.find(file + ": [http] tls_key_file must name a key file only its owner may read"),
      std::string::npos)
      << output;
  EXPECT_NE(output.find("(chmod 600 it)"), std::string::npos) << output;
}

TEST_F(HttpsTest, AReloadServesTheRenewedCertificate) {
  ServerProcess server(config(/*admin_tls=*/false));
  server.setReadinessProbe(servesHttps(certificates_.caFile()));
  server.start();
  // The files are replaced in place by ones of another CA, as a renewal by another issuer does.
  TestCertificates renewal;
  const IssuedCertificate renewed = renewal.issue("server", "127.0.0.1", "IP:127.0.0.1");
  std::string output;
  ASSERT_EQ(runShell("cp '" + renewed.cert + "' '" + server_.cert + "' && cp '" + renewed.key +
                         "' '" + server_.key + "'",
                     output),
            0)
      << output;
  // Until the reload the certificate in force is the old one.
  EXPECT_EQ(curl(server.port(), "/health", certificates_.caFile()).exit_code, 0);
  server.signal(SIGHUP);
  ASSERT_EQ(server.followHandover(), 0) << server.failureReport();
  CurlResult renewed_ca = curl(server.port(), "/health", renewal.caFile());
  EXPECT_EQ(renewed_ca.exit_code, 0) << renewed_ca.output;
  CurlResult old_ca = curl(server.port(), "/health", certificates_.caFile());
  EXPECT_EQ(old_ca.exit_code, 60) << old_ca.output;  // the certificate is not trusted
  EXPECT_EQ(server.stop(), 0) << server.output();
}

}  // namespace
}  // namespace busbar::testing

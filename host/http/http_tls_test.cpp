// HttpServer over TLS: the handshake advanced inside the event loop, requests and large bodies
// over TLS records, and the clients that never finish a handshake or do not speak TLS at all.
// The listener's certificate comes from a CA made by the test (tests/support/test_certificates).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "busbar/errors.h"
#include "http/http_server.h"
#include "http/http_test_client.h"
#include "http/tls_context.h"
#include "http/tls_test_client.h"
#include "test_certificates.h"

namespace busbar::host {
namespace {

using testing::RawClient;
using testing::TlsClient;

class HttpTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certificates_ = new busbar::testing::TestCertificates;
    issued_ = new busbar::testing::IssuedCertificate(
        certificates_->issue("server", "127.0.0.1", "IP:127.0.0.1,DNS:localhost"));
  }
  static void TearDownTestSuite() {
    delete issued_;
    delete certificates_;
  }

  void SetUp() override {
    router_.add("GET", "/hello/{name}", [](const HttpRequest& request, HttpResponse& response) {
      response.body = R"({"hello":")" + request.params.at("name") + R"("})";
    });
    router_.add("PUT", "/echo", [](const HttpRequest& request, HttpResponse& response) {
      response.body = request.body;
    });
  }

  // One loop, so that every client of a test shares it.
  void start(HttpSettings settings = {}) {
    ListenerTlsSettings tls;
    tls.enabled = true;
    tls.cert_file = issued_->cert;
    tls.key_file = issued_->key;
    tls_ = std::make_unique<TlsServerContext>(tls, "http", "host.conf");
    HttpListenerOptions options;
    options.loops = 1;
    options.tls = tls_.get();
    server_ =
        std::make_unique<HttpServer>(router_, settings, Poco::Logger::get("https-test"), options);
    server_->start("127.0.0.1", 0);
  }
  uint16_t port() const { return server_->port(); }
  std::string ca() const { return certificates_->caFile(); }

  static busbar::testing::TestCertificates* certificates_;
  static busbar::testing::IssuedCertificate* issued_;
  HttpRouter router_;
  std::unique_ptr<TlsServerContext> tls_;
  std::unique_ptr<HttpServer> server_;
};

busbar::testing::TestCertificates* HttpTlsTest::certificates_ = nullptr;
busbar::testing::IssuedCertificate* HttpTlsTest::issued_ = nullptr;

TEST_F(HttpTlsTest, ServesRequestsOnOneTlsConnectionAndAgreesOnHttp11) {
  start();
  TlsClient client(port(), ca(), std::string("\x02h2\x08http/1.1", 12));
  EXPECT_EQ(client.alpn(), "http/1.1");
  for (int i = 0; i < 3; ++i) {
    client.write("GET /hello/n" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    auto response = client.read();
    EXPECT_EQ(response.status_line, "HTTP/1.1 200 OK");
    EXPECT_EQ(response.body, R"({"hello":"n)" + std::to_string(i) + R"("})");
  }
  // Pipelined, in one write: answered in order.
  client.write("GET /hello/a HTTP/1.1\r\nHost: x\r\n\r\nGET /hello/b HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read().body, R"({"hello":"a"})");
  EXPECT_EQ(client.read().body, R"({"hello":"b"})");
  EXPECT_EQ(server_->load().tls_handshake_failures, 0u);
}

TEST_F(HttpTlsTest, LargeBodiesCrossInManyRecordsBothWays) {
  HttpSettings settings;
  settings.max_body = 16 * 1024 * 1024;
  start(settings);
  TlsClient client(port(), ca(), "", 30);
  // Past the socket buffers: the answer waits for the client to read (SSL_write would block).
  std::string body(8 * 1024 * 1024, 'x');
  for (size_t i = 0; i < body.size(); i += 4096) body[i] = static_cast<char>('a' + i / 4096 % 26);
  client.write(
      "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  auto response = client.read();
  EXPECT_EQ(response.status_line, "HTTP/1.1 200 OK");
  EXPECT_TRUE(response.body == body) << "answer of " << response.body.size() << " bytes differs";
  client.write("GET /hello/after HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read().body, R"({"hello":"after"})");
}

TEST_F(HttpTlsTest, HandshakesThatNeverEndHoldNoOneAndCloseAtTheHeaderTimeout) {
  HttpSettings settings;
  settings.header_timeout_seconds = 1;
  start(settings);
  // Twenty clients on the loop send the first bytes of a ClientHello's record and stop.
  std::vector<std::unique_ptr<RawClient>> stalled;
  for (int i = 0; i < 20; ++i) {
    stalled.push_back(std::make_unique<RawClient>(port()));
    stalled.back()->write(std::string("\x16\x03\x01\x02", 4));
  }
  TlsClient client(port(), ca());
  client.write("GET /hello/through HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read().body, R"({"hello":"through"})");
  for (auto& one : stalled) EXPECT_TRUE(one->closedByServer());  // within the client's 5 s
  EXPECT_EQ(server_->load().tls_handshake_failures, 20u);
}

TEST_F(HttpTlsTest, PlainHttpSentToTheTlsPortIsClosedAndCounted) {
  start();
  RawClient plain(port());
  plain.write("GET /hello/plain HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(plain.closedByServer());
  EXPECT_EQ(server_->load().tls_handshake_failures, 1u);
  // The listener goes on serving.
  TlsClient client(port(), ca());
  client.write("GET /hello/next HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read().body, R"({"hello":"next"})");
}

TEST_F(HttpTlsTest, AClientTrustingAnotherCaRefusesTheServer) {
  start();
  busbar::testing::TestCertificates other;
  try {
    TlsClient client(port(), other.caFile());
    FAIL() << "the handshake succeeded with a CA that did not sign the certificate";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("certificate verify failed"), std::string::npos)
        << error.what();
  }
}

TEST_F(HttpTlsTest, AStopClosesTlsConnectionsThatAreIdleOrHandshaking) {
  HttpSettings settings;
  settings.shutdown_grace_seconds = 2;
  start(settings);
  TlsClient idle(port(), ca());
  idle.write("GET /hello/idle HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(idle.read().body, R"({"hello":"idle"})");
  RawClient handshaking(port());
  handshaking.write(std::string("\x16\x03\x01", 3));
  // Both closed at once, none left for the grace period to cut.
  EXPECT_EQ(server_->stop().cut_at_deadline, 0);
  EXPECT_TRUE(idle.closedByServer());
  EXPECT_TRUE(handshaking.closedByServer());
}

// The certificate and key checks of the listener's context, before any connection.
class TlsServerContextTest : public HttpTlsTest {};

TEST_F(TlsServerContextTest, AFileThatHoldsNoCertificateStopsTheHostNamingIt) {
  ListenerTlsSettings tls;
  tls.enabled = true;
  tls.cert_file = issued_->key;  // a key, not a certificate
  tls.key_file = issued_->key;
  try {
    TlsServerContext context(tls, "http", "/etc/busbar/host.conf");
    FAIL() << "a key file was taken for a certificate";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what())
                  .find("/etc/busbar/host.conf: [http] tls_cert_file: '" + issued_->key +
                        "' holds no PEM certificate chain OpenSSL can load ("),
              std::string::npos)
        << error.what();
  }
}

TEST_F(TlsServerContextTest, AKeyOfAnotherCertificateStopsTheHostNamingBoth) {
  const auto other = certificates_->issue("other", "127.0.0.1", "IP:127.0.0.1");
  ListenerTlsSettings tls;
  tls.enabled = true;
  tls.cert_file = issued_->cert;
  tls.key_file = other.key;
  try {
    TlsServerContext context(tls, "admin", "host.conf");
    FAIL() << "a key that is not the certificate's was taken";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what())
                  .find("host.conf: [admin] tls_key_file: '" + other.key +
                        "' is not the private key of the certificate in tls_cert_file '" +
                        issued_->cert + "'"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace busbar::host

// amqps (label tls): a RabbitMQ node of the test's own that serves TLS with a certificate for
// "localhost" from a CA of the test's own and asks every client for a certificate that CA signed.
// The right CA with a client certificate connects (the broker lists the connection as TLS) and
// two busbar servers replicate a write through it; a wrong CA, a host name the certificate does
// not name, and no client certificate are refused, naming the reason, the file and the fix; a
// server whose CA did not sign the broker's certificate stops with exit code 2; bad files stop
// the host when host.conf is read.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "amqp_cluster.h"
#include "amqp_connection.h"
#include "rabbitmq_cluster.h"
#include "test_certificates.h"

namespace busbar::testing {
namespace {

class AmqpTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certificates_ = new TestCertificates;
    other_ca_ = new TestCertificates;
    client_ = new IssuedCertificate(certificates_->issue("client", "busbar", ""));
    const IssuedCertificate broker = certificates_->issue("broker", "localhost", "DNS:localhost");
    rabbit_ = new RabbitCluster(1, certificates_->caFile(), broker);
  }
  static void TearDownTestSuite() {
    delete rabbit_;
    delete client_;
    delete other_ca_;
    delete certificates_;
  }

  // amqps to the node as `host`, trusting `ca`, with the client certificate unless told not to.
  static amqp::ConnectionSettings settings(const std::string& ca, const std::string& host,
                                           bool client_certificate = true) {
    amqp::ConnectionSettings settings;
    settings.brokers = {{host, rabbit_->tlsNodes().at(0).port}};
    settings.tls.enabled = true;
    settings.tls.ca_file = ca;
    if (client_certificate) {
      settings.tls.cert_file = client_->cert;
      settings.tls.key_file = client_->key;
    }
    settings.connect_timeout = std::chrono::milliseconds(5000);
    return settings;
  }

  // The message of the AmqpError the connection throws ("connected" when it does not).
  template <typename Error>
  static std::string refusal(const amqp::ConnectionSettings& settings) {
    try {
      amqp::AmqpConnection connection(settings, "busbar tls test");
    } catch (const Error& error) {
      return error.what();
    } catch (const std::exception& other) {
      return std::string("another error: ") + other.what();
    }
    return "connected";
  }

  // A host.conf in `dir`: one server on SQLite whose [amqp] is host = localhost and `amqp`.
  static std::string hostConf(const TempDir& dir, const std::string& amqp) {
    return dir.write("host.conf",
                     "[host]\nplugins = amqp, sqlite, users\n[event_bus]\ntransport = amqp\n"
                     "exchanges.events = busbar.tls\nrouter._all = events\n[amqp]\n"
                     "host = localhost\n" +
                         amqp + "[storage]\ndriver = sqlite\nsqlite.path = " + dir.path() +
                         "/busbar.db\n");
  }

  static TestCertificates* certificates_;
  static TestCertificates* other_ca_;
  static IssuedCertificate* client_;
  static RabbitCluster* rabbit_;
};

TestCertificates* AmqpTlsTest::certificates_ = nullptr;
TestCertificates* AmqpTlsTest::other_ca_ = nullptr;
IssuedCertificate* AmqpTlsTest::client_ = nullptr;
RabbitCluster* AmqpTlsTest::rabbit_ = nullptr;

TEST_F(AmqpTlsTest, TheRightCaAndAClientCertificateConnectOverTls) {
  amqp::AmqpConnection connection(settings(certificates_->caFile(), "localhost"),
                                  "busbar tls test");
  ASSERT_TRUE(connection.usable());
  // The broker's view: the connection, named as busbar names it, is TLS.
  const std::string listed = rabbit_->rabbitmqctl(0, "list_connections client_properties ssl");
  std::istringstream lines(listed);
  size_t ours = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("busbar tls test") == std::string::npos) continue;
    ++ours;
    EXPECT_EQ(line.substr(line.find_last_not_of(" \t") - 3, 4), "true") << line;
  }
  EXPECT_EQ(ours, 1u) << listed;
}

TEST_F(AmqpTlsTest, AWrongCaIsRefusedNamingTheFile) {
  const std::string message =
      refusal<amqp::AmqpSettingsRefused>(settings(other_ca_->caFile(), "localhost"));
  EXPECT_NE(message.find("fails verification against the CA of [amqp] tls_ca_file ('" +
                         other_ca_->caFile() + "')"),
            std::string::npos)
      << message;
}

TEST_F(AmqpTlsTest, AHostNameTheCertificateDoesNotNameIsRefused) {
  const std::string message =
      refusal<amqp::AmqpSettingsRefused>(settings(certificates_->caFile(), "127.0.0.1"));
  EXPECT_NE(message.find("does not name '127.0.0.1'. Fix: connect by a name the certificate holds"),
            std::string::npos)
      << message;
}

TEST_F(AmqpTlsTest, WithoutTheClientCertificateTheBrokerAskedForTheHandshakeFails) {
  const std::string message = refusal<amqp::AmqpError>(
      settings(certificates_->caFile(), "localhost", /*client_certificate=*/false));
  EXPECT_NE(message.find("TLS: the handshake with localhost:"), std::string::npos) << message;
  EXPECT_NE(message.find("tls_cert_file"), std::string::npos) << message;
}

TEST_F(AmqpTlsTest, TwoServersReplicateAWriteOverAmqps) {
  ClusterOptions options;
  BrokerAddress node = rabbit_->tlsNodes().at(0);
  node.host = "localhost";
  options.broker_nodes = {node};
  options.amqp = "tls = true\ntls_ca_file = " + certificates_->caFile() +
                 "\ntls_cert_file = " + client_->cert + "\ntls_key_file = " + client_->key + "\n";
  AmqpCluster cluster(options);
  ServerProcess& a = cluster.startServer();
  ServerProcess& b = cluster.startServer();
  // Both ready: each one's publisher and consumer are connected (transport_connected).
  for (ServerProcess* server : {&a, &b}) {
    EXPECT_TRUE(eventually([&] { return server->request("GET", "/readyz").status == 200; }))
        << server->request("GET", "/readyz").body << server->output();
  }
  ASSERT_EQ(a.request("PUT", "/users/tls", R"({"name":"Over amqps"})").status, 201);
  // B's copy learns it from the event A published through the broker.
  EXPECT_TRUE(eventually([&] {
    return b.request("GET", "/users/tls").body.find("Over amqps") != std::string::npos &&
           parseJson(b.request("GET", "/health").body)
                   ->getObject("events")
                   ->getValue<int64_t>("delivered") > 0;
  })) << b.output();
  // Every connection the broker holds is TLS: two per server.
  const std::string listed = rabbit_->rabbitmqctl(0, "list_connections ssl");
  EXPECT_GE(std::count(listed.begin(), listed.end(), '\n'), 4) << listed;
  EXPECT_EQ(listed.find("false"), std::string::npos) << listed;
}

TEST_F(AmqpTlsTest, AServerTrustingAnotherCaStopsWithExitCode2NamingTheFile) {
  // A refusal no retry can cure: the host stops as on a bad config key instead of retrying.
  TempDir dir;
  const std::string conf = hostConf(
      dir, "port = " + std::to_string(rabbit_->tlsNodes().at(0).port) +
               "\ntls = true\ntls_ca_file = " + other_ca_->caFile() +
               "\ntls_cert_file = " + client_->cert + "\ntls_key_file = " + client_->key + "\n");
  ServerProcess server(conf);
  std::string failure = "started";
  try {
    server.start();
  } catch (const std::exception& error) {
    failure = error.what();
  }
  EXPECT_EQ(server.stop(), 2) << failure;
  EXPECT_NE(failure.find("fails verification against the CA of [amqp] tls_ca_file in " + conf +
                         " ('" + other_ca_->caFile() + "')"),
            std::string::npos)
      << failure;
}

TEST_F(AmqpTlsTest, BadTlsFilesStopTheHostNamingKeyAndFile) {
  TempDir dir;
  const std::string conf = hostConf(dir, "tls = true\ntls_ca_file = missing-ca.crt\n");
  std::string output;
  EXPECT_EQ(runBusbar({"--config", conf, "--check-config"}, output), 2) << output;
  EXPECT_NE(output.find("[amqp] tls_ca_file must name a file this server can read; found '" +
                        dir.path() + "/missing-ca.crt': No such file or directory"),
            std::string::npos)
      << output;
}

}  // namespace
}  // namespace busbar::testing

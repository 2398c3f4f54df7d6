// Operations across servers on RabbitMQ: a request id written on one server is logged by the
// server that applies its event; readiness and the amqp metrics follow the link to the broker
// (cut by a proxy in front of the shared broker, which other suites keep using meanwhile);
// the admin listener never shows the broker's password.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "amqp_cluster.h"
#include "tcp_proxy.h"

namespace busbar::testing {
namespace {

// The value of the sample `series` in the Prometheus text `metrics`, or -1 when absent.
double sampleOf(const std::string& metrics, const std::string& series) {
  const std::string start = "\n" + series + " ";
  const auto at = metrics.find(start);
  return at == std::string::npos ? -1 : std::stod(metrics.substr(at + start.size()));
}

TEST(AmqpOperationsTest, ARequestIdWrittenOnOneServerIsLoggedWhereItsEventApplies) {
  ClusterOptions options;
  options.sections = "[log]\nformat = json\nlevel = debug\n";
  AmqpCluster cluster(options);
  ServerProcess& writer = cluster.startServer();
  ServerProcess& reader = cluster.startServer();
  const std::string request_id = "trace-" + newUuid();
  HttpResult created = httpRequest(writer.port(), "PUT", "/users/traced", R"({"name":"T"})",
                                   "application/json", {{"X-Request-Id", request_id}});
  ASSERT_EQ(created.status, 201) << created.body;
  ASSERT_EQ(created.headers.at("X-Request-Id"), request_id);

  // Every line the reader logs is one JSON object; one of them applies the write's event.
  auto appliedThere = [&](const ServerProcess& server) {
    std::istringstream lines(server.output());
    std::string line;
    bool found = false;
    while (std::getline(lines, line)) {
      Poco::JSON::Object::Ptr entry = parseJson(line);  // throws on a line that is not JSON
      if (entry->has("request_id") && entry->getValue<std::string>("request_id") == request_id &&
          entry->getValue<std::string>("logger") == "busbar.events" &&
          entry->getValue<std::string>("message").rfind("applied UserWasCreated ", 0) == 0) {
        found = true;
      }
    }
    return found;
  };
  EXPECT_TRUE(eventually([&] { return appliedThere(reader); })) << reader.output();
  // Its own commit is applied there too, by the subscribers' thread, soon after the response.
  EXPECT_TRUE(eventually([&] { return appliedThere(writer); })) << writer.output();
  EXPECT_EQ(reader.stop(), 0) << reader.output();
  EXPECT_EQ(writer.stop(), 0) << writer.output();
}

TEST(AmqpOperationsTest, ReadinessAndTheAmqpMetricsFollowTheLinkToTheBroker) {
  AmqpCluster cluster;
  TcpProxy proxy(cluster.broker().host, cluster.broker().port);
  proxy.start();
  std::string text;
  {
    std::ifstream in(cluster.configFile());
    std::stringstream whole;
    whole << in.rdbuf();
    text = whole.str();
  }
  const std::string from = "\nport = " + std::to_string(cluster.broker().port) + "\n";
  text.replace(text.find(from), from.size(), "\nport = " + std::to_string(proxy.port()) + "\n");
  TempDir dir;
  ServerProcess server(dir.write("host.conf", text), {"--exchange", "events"});
  server.start();
  auto readiness = [&] { return server.request("GET", "/readyz"); };
  ASSERT_TRUE(eventually([&] { return readiness().status == 200; })) << readiness().body;
  std::string metrics = server.request("GET", "/metrics").body;
  EXPECT_EQ(sampleOf(metrics, R"(busbar_amqp_connected{connection="publisher"})"), 1) << metrics;
  EXPECT_EQ(sampleOf(metrics, R"(busbar_amqp_connected{connection="consumer"})"), 1) << metrics;
  ASSERT_EQ(server.request("PUT", "/users/linked", R"({"name":"L"})").status, 201);
  EXPECT_TRUE(eventually([&] {
    return sampleOf(server.request("GET", "/metrics").body, "busbar_amqp_events_confirmed_total") ==
           1;
  }));

  proxy.cut();
  // Both connections notice (the consumer at once, the idle publisher when it next services its
  // socket), and the check names each.
  const std::string broker = "connection to amqp://" + cluster.broker().user +
                             "@127.0.0.1:" + std::to_string(proxy.port());
  HttpResult cut;
  EXPECT_TRUE(eventually(
      [&] {
        cut = readiness();
        return cut.status == 503 &&
               cut.body.find(R"("failing":["transport_connected"])") != std::string::npos &&
               cut.body.find("the amqp publisher's " + broker) != std::string::npos &&
               cut.body.find("the amqp consumer's " + broker) != std::string::npos;
      },
      std::chrono::seconds(30)))
      << cut.body;
  metrics = server.request("GET", "/metrics").body;
  EXPECT_EQ(sampleOf(metrics, R"(busbar_readiness_check{check="transport_connected"})"), 0);
  // Alive all the while: nothing but a dependency is wrong.
  EXPECT_EQ(server.request("GET", "/livez").status, 200);

  proxy.start();
  EXPECT_TRUE(eventually([&] { return readiness().status == 200; }, std::chrono::seconds(30)))
      << readiness().body;
  metrics = server.request("GET", "/metrics").body;
  EXPECT_GE(sampleOf(metrics, R"(busbar_amqp_reconnects_total{connection="publisher"})"), 1)
      << metrics;
  EXPECT_GE(sampleOf(metrics, R"(busbar_amqp_reconnects_total{connection="consumer"})"), 1)
      << metrics;

  // The broker's password is in the config file and never on the admin listener.
  const std::string config = server.adminRequest("GET", "/admin/config").body;
  EXPECT_EQ(config.find("password\":\"" + cluster.broker().password), std::string::npos) << config;
  EXPECT_NE(config.find(R"("password":"********")"), std::string::npos) << config;
  EXPECT_EQ(server.stop(), 0) << server.output();
}

}  // namespace
}  // namespace busbar::testing

// `busbar infra create|check|drop` manages the broker objects of the config's exchanges.
#include <gtest/gtest.h>

#include "amqp_cluster.h"

namespace busbar::testing {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(AmqpInfraTest, CreateCheckAndDrop) {
  AmqpCluster cluster("async_pass_through = true\n", "auto_setup = false\n");
  const std::string& exchange = cluster.exchange();
  const std::string config = cluster.configFile();
  std::string output;

  EXPECT_EQ(runBusbar({"infra", "check", "--config", config}, output), 1) << output;
  EXPECT_TRUE(contains(output, "exchange " + exchange + ": MISSING")) << output;

  ASSERT_EQ(runBusbar({"infra", "create", "--config", config}, output), 0) << output;
  EXPECT_TRUE(contains(output, "declared exchange " + exchange + " (fanout, durable)")) << output;
  EXPECT_TRUE(contains(output, "declared queue " + exchange + ".dead")) << output;

  ASSERT_EQ(runBusbar({"infra", "check", "--config", config}, output), 0) << output;
  EXPECT_TRUE(contains(output, "exchange " + exchange + ": present")) << output;
  EXPECT_TRUE(contains(output, "exchange " + exchange + ".dead: present")) << output;
  EXPECT_TRUE(contains(output, "queue " + exchange + ".dead: present")) << output;

  {
    // Servers with auto_setup = false work on the topology that infra created.
    ServerProcess& a = cluster.startServer();
    ServerProcess& b = cluster.startServer();
    ASSERT_EQ(a.request("PUT", "/users/i", R"({"name":"I"})").status, 201);
    EXPECT_TRUE(eventually([&] { return b.request("GET", "/users/i").status == 200; },
                           std::chrono::seconds(15)));
  }

  ASSERT_EQ(runBusbar({"infra", "drop", "--config", config}, output), 0) << output;
  EXPECT_TRUE(contains(output, "deleted exchange " + exchange)) << output;
  EXPECT_TRUE(contains(output, "deleted queue " + exchange + ".dead")) << output;
  EXPECT_EQ(runBusbar({"infra", "check", "--config", config}, output), 1) << output;
  EXPECT_TRUE(contains(output, "exchange " + exchange + ": MISSING")) << output;
}

// host.conf for amqp + sqlite + users with `amqp` as the [amqp] section.
std::string configWithAmqpSection(const TempDir& dir, const std::string& amqp) {
  return dir.write("host.conf",
                   "[host]\nplugins = amqp, sqlite, users\n[event_bus]\ntransport = amqp\n"
                   "exchanges.events = x\nrouter._all = events\n[amqp]\n" +
                       amqp + "[storage]\ndriver = sqlite\nsqlite.path = " + dir.path() +
                       "/busbar.db\n");
}

TEST(AmqpInfraTest, CheckConfigNeedsNoBroker) {
  TempDir dir;
  // Nothing listens on this port: init() must not connect.
  std::string config =
      configWithAmqpSection(dir, "port = " + std::to_string(freePort()) + "\npassword = p\n");
  std::string output;
  EXPECT_EQ(runBusbar({"--config", config, "--check-config"}, output), 0) << output;
}

TEST(AmqpInfraTest, UnknownOrInvalidAmqpKeysStopTheHost) {
  TempDir dir;
  std::string output;
  EXPECT_EQ(runBusbar({"--config", configWithAmqpSection(dir, "hots = typo\n"), "--check-config"},
                      output),
            2)
      << output;
  EXPECT_TRUE(contains(output, "[amqp] hots is not a known key")) << output;
  EXPECT_EQ(runBusbar({"--config", configWithAmqpSection(dir, "heartbeat = 0\n"), "--check-config"},
                      output),
            2)
      << output;
  EXPECT_TRUE(contains(output, "[amqp] heartbeat must be an integer from 1 to 600")) << output;
}

TEST(AmqpInfraTest, InfraSaysWhyTheBrokerIsUnreachable) {
  TempDir dir;
  std::string config =
      configWithAmqpSection(dir, "port = " + std::to_string(freePort()) + "\npassword = p\n");
  std::string output;
  EXPECT_NE(runBusbar({"infra", "check", "--config", config}, output), 0) << output;
  EXPECT_TRUE(contains(output, "cannot connect to amqp://guest@127.0.0.1:")) << output;
  EXPECT_TRUE(contains(output, "refused: nothing listens at 127.0.0.1:")) << output;
  EXPECT_TRUE(contains(output, "Fix: start RabbitMQ there")) << output;
  EXPECT_TRUE(contains(output, "[amqp] host and port in " + config)) << output;
}

TEST(AmqpInfraTest, InfraSaysWhenTheBrokerRefusesTheLogin) {
  TempDir dir;
  std::string config = configWithAmqpSection(dir, "password = surely-not-the-password\n");
  std::string output;
  EXPECT_NE(runBusbar({"infra", "check", "--config", config}, output), 0) << output;
  EXPECT_TRUE(contains(output, "cannot log in to amqp://")) << output;
  EXPECT_TRUE(contains(output, "BUSBAR_AMQP_PASSWORD")) << output;
  EXPECT_TRUE(contains(output, "[amqp] user and vhost in " + config)) << output;
}

// [amqp] for the test broker's user and password and `vhost`.
std::string brokerKeys(const std::string& vhost, const std::string& password) {
  return "host = " + requireEnv("BUSBAR_TEST_AMQP_HOST") +
         "\nport = " + requireEnv("BUSBAR_TEST_AMQP_PORT") + "\nvhost = " + vhost +
         "\nuser = " + requireEnv("BUSBAR_TEST_AMQP_USER") + "\npassword = " + password + "\n";
}

TEST(AmqpInfraTest, AServerWhoseLoginTheBrokerRefusesStopsAtStartWithExit2) {
  TempDir dir;
  const std::string config = configWithAmqpSection(
      dir, brokerKeys(requireEnv("BUSBAR_TEST_AMQP_VHOST"), "surely-not-the-password"));
  std::string output;
  EXPECT_EQ(
      runBusbar({"--config", config, "--bind", "127.0.0.1:" + std::to_string(freePort())}, output),
      2)
      << output;
  EXPECT_TRUE(contains(output, "cannot log in to amqp://" + requireEnv("BUSBAR_TEST_AMQP_USER")))
      << output;
  EXPECT_TRUE(contains(output, "BUSBAR_AMQP_PASSWORD")) << output;
  EXPECT_TRUE(contains(output, "[amqp] user and vhost in " + config)) << output;
}

TEST(AmqpInfraTest, AServerGivenAVhostTheUserMayNotUseStopsAtStartWithExit2) {
  TempDir dir;
  const std::string config = configWithAmqpSection(
      dir, brokerKeys("busbar-no-such-vhost", requireEnv("BUSBAR_TEST_AMQP_PASSWORD")));
  std::string output;
  EXPECT_EQ(
      runBusbar({"--config", config, "--bind", "127.0.0.1:" + std::to_string(freePort())}, output),
      2)
      << output;
  EXPECT_TRUE(contains(output, "/busbar-no-such-vhost")) << output;
  EXPECT_TRUE(contains(output, "rabbitmqctl set_permissions -p busbar-no-such-vhost")) << output;
}

TEST(AmqpInfraTest, AServerStartedWhileTheBrokerIsAwayWaitsNotReadyAndSaysWhy) {
  TempDir dir;
  const std::string port = std::to_string(freePort());
  ServerProcess server(configWithAmqpSection(dir, "port = " + port + "\npassword = p\n"));
  server.start();
  EXPECT_EQ(server.request("GET", "/readyz").status, 503);
  EXPECT_TRUE(contains(server.output(), "refused: nothing listens at 127.0.0.1:" + port))
      << server.output();
  EXPECT_TRUE(contains(server.output(), "retrying, not ready until it connects"))
      << server.output();
  EXPECT_TRUE(server.running());
}

}  // namespace
}  // namespace busbar::testing

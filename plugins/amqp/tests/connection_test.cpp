// AmqpConnection over a list of nodes, against the run's real broker and ports where nothing
// listens: the first node that answers, tried from the one asked first and around; every node's
// failure named when none answers; a refused login ends the search at once.
#include <gtest/gtest.h>

#include "amqp_connection.h"
#include "free_port.h"
#include "raw_amqp_client.h"

namespace busbar::testing {
namespace {

amqp::ConnectionSettings settingsFor(const BrokerAddress& broker,
                                     std::vector<amqp::BrokerAddress> nodes) {
  amqp::ConnectionSettings settings;
  settings.brokers = std::move(nodes);
  settings.vhost = broker.vhost;
  settings.user = broker.user;
  settings.password = broker.password;
  settings.connect_timeout = std::chrono::milliseconds(2000);
  return settings;
}

TEST(AmqpConnectionTest, GoesToTheFirstNodeThatAnswersFromTheOneItTriesFirst) {
  const BrokerAddress broker = brokerFromEnvironment();
  const amqp::BrokerAddress refusing{"127.0.0.1", freePort()};
  const amqp::BrokerAddress live{broker.host, broker.port};
  const auto settings = settingsFor(broker, {refusing, live, refusing});
  EXPECT_EQ(amqp::AmqpConnection(settings, "connection test", 0).brokerIndex(), 1u);
  EXPECT_EQ(amqp::AmqpConnection(settings, "connection test", 1).brokerIndex(), 1u);
  // From the last node on, around to the first that answers.
  EXPECT_EQ(amqp::AmqpConnection(settings, "connection test", 2).brokerIndex(), 1u);
  const auto two_live = settingsFor(broker, {live, refusing, live});
  EXPECT_EQ(amqp::AmqpConnection(two_live, "connection test", 1).brokerIndex(), 2u);
  EXPECT_EQ(amqp::AmqpConnection(two_live, "connection test", 3).brokerIndex(), 0u);
}

TEST(AmqpConnectionTest, NoNodeAnsweringNamesEachNodesFailure) {
  const BrokerAddress broker = brokerFromEnvironment();
  const int first = freePort();
  const int second = freePort();
  const auto settings = settingsFor(broker, {{"127.0.0.1", first}, {"127.0.0.1", second}});
  try {
    amqp::AmqpConnection connection(settings, "connection test");
    FAIL() << "connected to a port where nothing listens";
  } catch (const amqp::AmqpSettingsRefused& refused) {
    FAIL() << "a node that refuses the connection is no mistake in [amqp]: " << refused.what();
  } catch (const amqp::AmqpError& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.rfind("no node of " + amqp::describe(settings) +
                                " answers: cannot connect "
                                "to amqp://" +
                                broker.user + "@127.0.0.1:" + std::to_string(first),
                            0),
              0u)
        << message;
    EXPECT_NE(message.find("refused: nothing listens at 127.0.0.1:" + std::to_string(second)),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("Fix: start RabbitMQ there"), std::string::npos) << message;
    EXPECT_NE(message.find("or correct [amqp] hosts"), std::string::npos) << message;
  }
}

TEST(AmqpConnectionTest, NodesWhoseNamesNeverResolveAreAMistakeInTheConfig) {
  const BrokerAddress broker = brokerFromEnvironment();
  const auto settings =
      settingsFor(broker, {{"no-such-node-1.invalid", 5672}, {"no-such-node-2.invalid", 5672}});
  EXPECT_THROW(amqp::AmqpConnection(settings, "connection test"), amqp::AmqpSettingsRefused);
  // One node that resolves and refuses: the broker may come back, so it is no config mistake.
  const auto mixed =
      settingsFor(broker, {{"no-such-node-1.invalid", 5672}, {"127.0.0.1", freePort()}});
  try {
    amqp::AmqpConnection connection(mixed, "connection test");
    FAIL() << "connected to nothing";
  } catch (const amqp::AmqpSettingsRefused& refused) {
    FAIL() << refused.what();
  } catch (const amqp::AmqpError&) {
  }
}

TEST(AmqpConnectionTest, ALoginOneNodeRefusesGoesOnToTheOthersAndEveryNodeRefusingIsTheConfigs) {
  BrokerAddress broker = brokerFromEnvironment();
  const amqp::BrokerAddress live{broker.host, broker.port};
  broker.password = "not the password";
  // Refused on one node, no answer from the other: the broker may be right elsewhere later.
  try {
    amqp::AmqpConnection connection(settingsFor(broker, {live, {"127.0.0.1", freePort()}}),
                                    "connection test");
    FAIL() << "logged in with a wrong password";
  } catch (const amqp::AmqpSettingsRefused& refused) {
    FAIL() << "one node's refusal ended the search: " << refused.what();
  } catch (const amqp::AmqpError& error) {
    EXPECT_NE(std::string(error.what())
                  .find("cannot log in to amqp://" + broker.user + "@" + amqp::describe(live)),
              std::string::npos)
        << error.what();
  }
  // Refused by every node: a mistake in [amqp].
  EXPECT_THROW(amqp::AmqpConnection(settingsFor(broker, {live, live}), "connection test"),
               amqp::AmqpSettingsRefused);
}

}  // namespace
}  // namespace busbar::testing

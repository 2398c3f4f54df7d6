// Who caused a write travels with its events (SDK 1.6): the name of the bearer token of the
// request reaches the subscribers of every server, through the broker's envelope and through the
// event log, and the parked copy of an event keeps it.
#include <gtest/gtest.h>

#include "amqp_cluster.h"

namespace busbar::testing {
namespace {

constexpr const char* kDeploy = "deploy-8e1b7c3d9a2f4e6b";
constexpr std::chrono::seconds kDeadline{15};

// The principals a server's event recorder saw, by event id.
std::map<std::string, std::string> principalsOn(const ServerProcess& server) {
  auto recorded = parseJson(server.request("GET", "/recorded").body);
  auto ids = recorded->getArray("ids");
  auto principals = recorded->getArray("principals");
  std::map<std::string, std::string> seen;
  for (size_t i = 0; i < ids->size(); ++i) {
    seen[ids->getElement<std::string>(i)] = principals->getElement<std::string>(i);
  }
  return seen;
}

std::string describe(const std::map<std::string, std::string>& seen) {
  std::string text;
  for (const auto& [id, principal] : seen) text += id + "=" + principal + " ";
  return text;
}

TEST(AmqpPrincipalTest, TheTokenOfAWriteReachesEveryServersSubscribersByBrokerAndByLog) {
  ClusterOptions options;
  options.modules = {"event_recorder"};
  options.sections =
      "[http]\nauth = bearer\n"
      "[token.deploy]\nscopes = write, read\nenv = BUSBAR_TEST_DEPLOY_TOKEN\n"
      "[event_recorder]\n";
  AmqpCluster cluster(options);
  const std::map<std::string, std::string> env = {{"BUSBAR_TEST_DEPLOY_TOKEN", kDeploy}};
  ServerProcess& writer = cluster.startServer("events", env);
  ServerProcess& consumer = cluster.startServer("events", env);
  ServerProcess& from_log = cluster.startServer("", env);  // hears of writes only from the log

  const auto put =
      httpRequest(writer.port(), "PUT", "/users/ada", R"({"name":"Ada","email":"ada@example.org"})",
                  "application/json", {{"Authorization", std::string("Bearer ") + kDeploy}});
  ASSERT_EQ(put.status, 201) << put.body;

  for (ServerProcess* server : {&writer, &consumer, &from_log}) {
    std::map<std::string, std::string> seen;
    EXPECT_TRUE(eventually(
        [&] {
          seen = principalsOn(*server);
          return seen.size() == 1;
        },
        kDeadline))
        << describe(seen) << "\n"
        << server->failureReport();
    ASSERT_EQ(seen.size(), 1u) << describe(seen);
    EXPECT_EQ(seen.begin()->second, "deploy") << "on " << server->port() << ": " << describe(seen);
  }
  EXPECT_EQ(writer.stop(), 0) << writer.failureReport();
  EXPECT_EQ(consumer.stop(), 0) << consumer.failureReport();
  EXPECT_EQ(from_log.stop(), 0) << from_log.failureReport();
}

}  // namespace
}  // namespace busbar::testing

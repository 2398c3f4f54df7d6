// A broker that stops answering (frozen, not closed) is noticed within two heartbeats; after it
// answers again the servers reconnect, and what was written meanwhile reaches everyone.
#include <gtest/gtest.h>

#include <Poco/String.h>

#include "amqp_cluster.h"
#include "process_stop.h"

namespace busbar::testing {
namespace {

// The broker's process (its Erlang VM), as rabbitmqctl tells it.
pid_t brokerPid() {
  return std::stoi(Poco::trim(rabbitmqctl({"eval", "list_to_integer(os:getpid())."})));
}

bool noticedTheLoss(const ServerProcess& server) {
  return server.output().find("amqp consumer lost the broker") != std::string::npos;
}

TEST(AmqpLinkLossTest, ASilentBrokerIsNoticedWithinTwoHeartbeats) {
  AmqpCluster cluster("async_pass_through = true\n", "heartbeat = 1\n");
  ServerProcess& a = cluster.startServer();
  ServerProcess& b = cluster.startServer();
  ASSERT_EQ(a.request("PUT", "/users/before", R"({"name":"Before"})").status, 201);
  ASSERT_TRUE(eventually([&] { return b.request("GET", "/users/before").status == 200; }));
  {
    FrozenProcess frozen(brokerPid(), "the broker");
    // Two heartbeats of one second, with a margin for a loaded machine.
    EXPECT_TRUE(
        eventually([&] { return noticedTheLoss(a) && noticedTheLoss(b); }, std::chrono::seconds(5)))
        << a.output();
    // Writes go on: publishing never waits for the broker.
    EXPECT_EQ(a.request("PUT", "/users/during", R"({"name":"During"})").status, 201);
    frozen.thaw();
    EXPECT_TRUE(eventually([&] { return b.request("GET", "/users/during").status == 200; },
                           std::chrono::seconds(30)))
        << b.output();
  }
  EXPECT_TRUE(eventually([&] { return usersOf(a) == usersOf(b); }, std::chrono::seconds(10)));
}

}  // namespace
}  // namespace busbar::testing

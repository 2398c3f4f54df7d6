// A reload (SIGHUP, a new process takes over) of a server that consumes a named durable queue
// (--exchange alias:queue): the queue carries on with the new process as its consumer, and what
// the old one had taken but not acknowledged is delivered again. The many-round reload of three
// servers with their own queues is a chaos fault (chaos_test.cpp).
#include <signal.h>

#include <atomic>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "amqp_cluster.h"

namespace busbar::testing {
namespace {

constexpr std::chrono::seconds kReloadDeadline{15};

// The consumers of `queue` in `vhost`, from the broker.
int consumersOf(const std::string& vhost, const std::string& queue) {
  std::istringstream lines(rabbitmqctl({"-q", "list_queues", "-p", vhost, "name", "consumers"}));
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string name;
    int consumers = -1;
    if (fields >> name >> consumers && name == queue) return consumers;
  }
  return -1;
}

TEST(AmqpReloadTest, ANamedQueueCarriesOnWithTheNewProcess) {
  AmqpCluster cluster;
  const std::string queue = cluster.exchange() + ".reloaded";
  ServerProcess& consumer = cluster.startServer("events:" + queue);
  ServerProcess& writer = cluster.startServer("");  // publishes, consumes nothing
  ASSERT_TRUE(eventually([&] { return consumersOf(cluster.broker().vhost, queue) == 1; }));
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writes([&] {
    for (int i = 0; !stop; ++i) {
      const std::string body = R"({"name":"Q)" + std::to_string(i) + "\"}";
      if (writer.request("PUT", "/users/q" + std::to_string(i % 50), body).status / 100 == 2) {
        ++written;
      }
    }
  });
  for (int round = 0; round < 3; ++round) {
    const int before = written;
    consumer.signal(SIGHUP);
    ASSERT_EQ(consumer.followHandover(), 0) << consumer.failureReport();
    ASSERT_TRUE(eventually([&] { return written > before + 20; }));
  }
  stop = true;
  writes.join();
  // The new process consumes the queue alone, drains it and holds what the database holds.
  EXPECT_TRUE(eventually([&] { return consumersOf(cluster.broker().vhost, queue) == 1; }));
  RawAmqpClient client(cluster.broker());
  EXPECT_TRUE(eventually([&] { return client.messageCount(queue) == 0u; }, kReloadDeadline));
  EXPECT_TRUE(
      eventually([&] { return allUsersOf(consumer) == allUsersOf(writer); }, kReloadDeadline))
      << allUsersOf(consumer) << "\n"
      << allUsersOf(writer);
  EXPECT_EQ(client.messageCount(cluster.exchange() + ".dead"), 0u);
  EXPECT_EQ(consumer.stop(), 0) << consumer.output();
}

}  // namespace
}  // namespace busbar::testing

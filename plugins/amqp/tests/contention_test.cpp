// Writers of the same users on every server at once, on each backend (BUSBAR_TEST_STORAGE): the
// database may end a writer's transaction on a deadlock or a serialization failure (a user row,
// the event log's rows and indexes), and the users module runs it again, so every write is
// answered with success.
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "amqp_cluster.h"

namespace busbar::testing {
namespace {

TEST(ContentionTest, WritersOfTheSameUsersOnEveryServerAllSucceed) {
  AmqpCluster cluster;
  std::vector<ServerProcess*> servers = {&cluster.startServer(), &cluster.startServer(),
                                         &cluster.startServer()};
  constexpr int kThreads = 12;
  constexpr int kWritesEach = 150;
  constexpr int kKeys = 10;
  std::mutex mutex;
  std::map<int, int> statuses;
  std::map<int, std::string> examples;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ServerProcess& server = *servers[static_cast<size_t>(t) % servers.size()];
      for (int n = 0; n < kWritesEach; ++n) {
        const std::string id = "hot-" + std::to_string((n * 7 + t) % kKeys);
        HttpResult result = (n % 10 == 9)
                                ? server.request("DELETE", "/users/" + id)
                                : server.request("PUT", "/users/" + id, R"({"name":"contended"})");
        std::lock_guard<std::mutex> lock(mutex);
        ++statuses[result.status];
        examples.emplace(result.status, result.body);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& [status, count] : statuses) {
    EXPECT_TRUE(status == 200 || status == 201 || status == 204 || status == 404)
        << count << " answers " << status << ", e.g. " << examples[status];
  }
}

}  // namespace
}  // namespace busbar::testing

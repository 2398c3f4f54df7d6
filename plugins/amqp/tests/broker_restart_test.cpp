// The broker goes away while writes go on: afterwards every server's copy equals the database.
// Meanwhile every server reports itself not ready (GET /readyz, transport_connected), and ready
// again once the broker is back.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "amqp_cluster.h"

namespace busbar::testing {
namespace {

// Writes users round-robin on the servers until stopped: creates, renames and deletes.
class Writer {
 public:
  explicit Writer(std::vector<ServerProcess*> servers) : servers_(std::move(servers)) {
    thread_ = std::thread([this] { run(); });
  }
  ~Writer() { stop(); }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int done() const { return done_.load(); }
  int failed() const { return failed_.load(); }
  std::string lastFailure() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_failure_;
  }

 private:
  void run() {
    for (int i = 0; !stopping_; ++i) {
      ServerProcess& server = *servers_[i % servers_.size()];
      std::string id = "w" + std::to_string(i % 40);
      bool remove = i % 7 == 3;
      try {
        HttpResult result = remove ? server.request("DELETE", "/users/" + id)
                                   : server.request("PUT", "/users/" + id,
                                                    R"({"name":"n)" + std::to_string(i) + "\"}");
        bool ok = result.status == 200 || result.status == 201 || result.status == 204 ||
                  (remove && result.status == 404);
        if (!ok) fail(std::to_string(result.status) + " " + result.body);
      } catch (const std::exception& error) {
        fail(error.what());
      }
      ++done_;
    }
  }
  void fail(const std::string& why) {
    ++failed_;
    std::lock_guard<std::mutex> lock(mutex_);
    last_failure_ = why;
  }

  std::vector<ServerProcess*> servers_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> done_{0};
  std::atomic<int> failed_{0};
  mutable std::mutex mutex_;
  std::string last_failure_;
  std::thread thread_;
};

TEST(AmqpBrokerRestartTest, EveryCopyEqualsTheDatabaseAfterTheBrokerComesBack) {
  AmqpCluster cluster;
  std::vector<ServerProcess*> servers = {&cluster.startServer(), &cluster.startServer(),
                                         &cluster.startServer()};
  Writer writer(servers);
  ASSERT_TRUE(eventually([&] { return writer.done() >= 30; }, std::chrono::seconds(30)));
  auto readiness = [&](int status) {
    for (ServerProcess* server : servers) {
      HttpResult ready = server->request("GET", "/readyz");
      if (ready.status != status) return false;
      if (status == 503 &&
          ready.body.find(R"("failing":["transport_connected")") == std::string::npos) {
        return false;
      }
    }
    return true;
  };
  {
    BrokerOutage outage;
    int before = writer.done();
    // Writes keep succeeding while the broker is away: publishing never blocks them.
    ASSERT_TRUE(eventually([&] { return writer.done() >= before + 30; }, std::chrono::seconds(30)));
    EXPECT_TRUE(eventually([&] { return readiness(503); }, std::chrono::seconds(30)));
    outage.end();
    int after = writer.done();
    ASSERT_TRUE(eventually([&] { return writer.done() >= after + 30; }, std::chrono::seconds(30)));
  }
  EXPECT_TRUE(eventually([&] { return readiness(200); }, std::chrono::seconds(30)))
      << servers.front()->request("GET", "/readyz").body;
  writer.stop();
  EXPECT_EQ(writer.failed(), 0) << writer.lastFailure();

  ServerProcess& database = cluster.startDatabaseReader();
  const std::string expected = usersOf(database);
  for (ServerProcess* server : servers) {
    EXPECT_TRUE(eventually([&] { return usersOf(*server) == expected; }, std::chrono::seconds(30)))
        << "server on port " << server->port() << " has\n"
        << usersOf(*server) << "\nthe database has\n"
        << expected << "\n"
        << server->output();
  }
}

TEST(AmqpBrokerRestartTest, EventsWrittenWhileTheBrokerIsDownArePublishedWhenItReturns) {
  // The publisher's own queue at work, once each: the relay, which also publishes what stays
  // unconfirmed longer than relay_delay (10 s, about as long as a broker restart here), would add
  // copies, which consumers drop but this queue would count.
  ClusterOptions options;
  options.sections = "[event_log]\nrelay_delay = 600s\n";
  AmqpCluster cluster(options);
  ServerProcess& server = cluster.startServer("");  // publishes only
  // Ready once its publisher connected, which declares the exchange this test binds to.
  ASSERT_TRUE(eventually([&] { return server.request("GET", "/readyz").status == 200; }))
      << server.request("GET", "/readyz").body << server.output();
  const std::string queue = cluster.exchange() + ".observer";
  RawAmqpClient(cluster.broker()).declareDurableQueueBoundTo(queue, cluster.exchange());
  {
    BrokerOutage outage;
    for (int i = 0; i < 5; ++i) {
      ASSERT_EQ(server.request("PUT", "/users/o" + std::to_string(i), R"({"name":"O"})").status,
                201);
    }
  }
  RawAmqpClient client(cluster.broker());
  EXPECT_TRUE(eventually([&] { return client.messageCount(queue) == 5; }, std::chrono::seconds(30)))
      << client.messageCount(queue) << " messages\n"
      << server.output();
  for (int i = 0; i < 5; ++i) {
    auto message = client.get(queue);
    ASSERT_TRUE(message.has_value());
    EXPECT_EQ(parseJson(message->body)->getObject("payload")->getValue<std::string>("id"),
              "o" + std::to_string(i));  // in the order they were written
  }
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace busbar::testing

// Several busbar servers on one database and one exchange: every write on one server reaches
// the others' in-memory copies, late starters preload, and async_pass_through = false works.
#include <gtest/gtest.h>

#include "amqp_cluster.h"

namespace busbar::testing {
namespace {

constexpr std::chrono::seconds kReplicationDeadline{15};

std::string nameOn(const ServerProcess& server, const std::string& id) {
  HttpResult result = server.request("GET", "/users/" + id);
  if (result.status != 200) return "<" + std::to_string(result.status) + ">";
  return parseJson(result.body)->getValue<std::string>("name");
}

int64_t deliveredOn(const ServerProcess& server) {
  return parseJson(server.request("GET", "/health").body)
      ->getObject("events")
      ->getValue<int64_t>("delivered");
}

TEST(AmqpReplicationTest, PutAndDeleteOnAnyServerAreVisibleOnTheOthers) {
  AmqpCluster cluster;
  ServerProcess& a = cluster.startServer();
  ServerProcess& b = cluster.startServer();
  ServerProcess& c = cluster.startServer();

  ASSERT_EQ(a.request("PUT", "/users/ada", R"({"name":"Ada","email":"ada@example.org"})").status,
            201);
  EXPECT_TRUE(eventually([&] { return nameOn(b, "ada") == "Ada" && nameOn(c, "ada") == "Ada"; },
                         kReplicationDeadline))
      << "b: " << nameOn(b, "ada") << ", c: " << nameOn(c, "ada") << "\n"
      << b.output();

  ASSERT_EQ(b.request("PUT", "/users/ada", R"({"name":"Ada L."})").status, 200);
  EXPECT_TRUE(
      eventually([&] { return nameOn(a, "ada") == "Ada L." && nameOn(c, "ada") == "Ada L."; },
                 kReplicationDeadline));
  EXPECT_EQ(parseJson(c.request("GET", "/users/ada").body)->getValue<int>("version"), 2);

  ASSERT_EQ(c.request("DELETE", "/users/ada").status, 204);
  EXPECT_TRUE(eventually(
      [&] {
        return a.request("GET", "/users/ada").status == 404 &&
               b.request("GET", "/users/ada").status == 404;
      },
      kReplicationDeadline));
  EXPECT_EQ(usersOf(a), R"({"users":[]})");
  // SIGTERM stops consuming, flushes the publisher and exits cleanly.
  EXPECT_EQ(a.stop(), 0) << a.output();
  EXPECT_EQ(b.stop(), 0) << b.output();
  EXPECT_EQ(c.stop(), 0) << c.output();
}

TEST(AmqpReplicationTest, ALateServerPreloadsWhatWasWrittenBefore) {
  AmqpCluster cluster;
  ServerProcess& a = cluster.startServer();
  ServerProcess& b = cluster.startServer();
  for (int i = 0; i < 10; ++i) {
    ServerProcess& writer = i % 2 == 0 ? a : b;
    ASSERT_EQ(writer.request("PUT", "/users/u" + std::to_string(i), R"({"name":"U"})").status, 201);
  }
  ASSERT_EQ(b.request("DELETE", "/users/u3").status, 204);
  ASSERT_TRUE(eventually([&] { return usersOf(a) == usersOf(b); }, kReplicationDeadline));

  ServerProcess& late = cluster.startServer();
  EXPECT_EQ(usersOf(late), usersOf(a));  // preloaded before it served the first request
  EXPECT_EQ(late.request("GET", "/users/u3").status, 404);

  ASSERT_EQ(late.request("PUT", "/users/late", R"({"name":"Late"})").status, 201);
  EXPECT_TRUE(eventually([&] { return nameOn(a, "late") == "Late" && nameOn(b, "late") == "Late"; },
                         kReplicationDeadline));
}

TEST(AmqpReplicationTest, WithoutPassThroughOwnEventsComeBackThroughTheBroker) {
  AmqpCluster cluster("async_pass_through = false\n");
  ServerProcess& a = cluster.startServer();
  ServerProcess& b = cluster.startServer();

  ASSERT_EQ(a.request("PUT", "/users/p", R"({"name":"P"})").status, 201);
  EXPECT_EQ(nameOn(a, "p"), "P");
  EXPECT_TRUE(eventually([&] { return nameOn(b, "p") == "P"; }, kReplicationDeadline));
  // a delivered its own event only when the broker brought it back; b delivered it as well.
  EXPECT_TRUE(
      eventually([&] { return deliveredOn(a) == 1 && deliveredOn(b) == 1; }, kReplicationDeadline))
      << "a delivered " << deliveredOn(a) << ", b delivered " << deliveredOn(b);

  ASSERT_EQ(b.request("DELETE", "/users/p").status, 204);
  EXPECT_TRUE(
      eventually([&] { return a.request("GET", "/users/p").status == 404; }, kReplicationDeadline));
  EXPECT_TRUE(
      eventually([&] { return deliveredOn(a) == 2 && deliveredOn(b) == 2; }, kReplicationDeadline));

  RawAmqpClient client(cluster.broker());
  EXPECT_EQ(client.messageCount(cluster.exchange() + ".dead"), 0u);
}

TEST(AmqpReplicationTest, WithPassThroughAServerSkipsItsOwnEventsFromTheBroker) {
  AmqpCluster cluster;
  ServerProcess& a = cluster.startServer();
  ServerProcess& b = cluster.startServer();
  ASSERT_EQ(a.request("PUT", "/users/q", R"({"name":"Q"})").status, 201);
  EXPECT_TRUE(eventually([&] { return deliveredOn(b) == 1; }, kReplicationDeadline));
  // a delivered it locally at dispatch; the copy from its own queue is skipped.
  ASSERT_EQ(b.request("PUT", "/users/r", R"({"name":"R"})").status, 201);
  EXPECT_TRUE(eventually([&] { return nameOn(a, "r") == "R"; }, kReplicationDeadline));
  // Its own at dispatch, then b's from the broker; never its own a second time.
  EXPECT_TRUE(
      eventually([&] { return deliveredOn(a) == 2 && deliveredOn(b) == 2; }, kReplicationDeadline))
      << "a delivered " << deliveredOn(a) << ", b delivered " << deliveredOn(b);
}

TEST(AmqpReplicationTest, HealthShowsWhereEachServerIsInTheEventLog) {
  AmqpCluster cluster;
  ServerProcess& a = cluster.startServer();
  ServerProcess& b = cluster.startServer();
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(a.request("PUT", "/users/h" + std::to_string(i), R"({"name":"H"})").status, 201);
  }
  ASSERT_EQ(a.request("DELETE", "/users/h0").status, 204);
  for (ServerProcess* server : {&a, &b}) {
    Poco::JSON::Object::Ptr log;
    EXPECT_TRUE(eventually(
        [&] {
          log = parseJson(server->request("GET", "/health").body)->getObject("event_log");
          return log->getValue<int64_t>("applied_seq") == 6 &&
                 log->getValue<int64_t>("head_seq") == 6;
        },
        kReplicationDeadline))
        << server->request("GET", "/health").body;
    EXPECT_TRUE(log->getValue<bool>("enabled"));
    EXPECT_EQ(log->getValue<int64_t>("waiting"), 0);
    EXPECT_EQ(log->getValue<int64_t>("set_aside"), 0);
    EXPECT_FALSE(log->isNull("last_catch_up"));
    auto relay = log->getObject("relay");
    EXPECT_EQ(relay->getValue<std::string>("lease_holder").empty(), false);
  }
  // One of the two relays; both know which.
  auto holder = [](ServerProcess& server) {
    return parseJson(server.request("GET", "/health").body)
        ->getObject("event_log")
        ->getObject("relay")
        ->getValue<bool>("holds_lease");
  };
  EXPECT_TRUE(eventually([&] { return holder(a) != holder(b); }, kReplicationDeadline));
}

int64_t caughtUpOn(const ServerProcess& server) {
  return parseJson(server.request("GET", "/health").body)
      ->getObject("event_log")
      ->getValue<int64_t>("caught_up");
}

TEST(AmqpReplicationTest, ServersOnANamedQueueShareTheBrokersCopiesYetEachAppliesEveryEvent) {
  AmqpCluster cluster;
  const std::string queue = cluster.exchange() + ".work";
  ServerProcess& a = cluster.startServer("events:" + queue);
  ServerProcess& b = cluster.startServer("events:" + queue);
  ServerProcess& writer = cluster.startServer("");  // publishes, consumes nothing
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(writer.request("PUT", "/users/s" + std::to_string(i), R"({"name":"S"})").status, 201);
  }
  // Every logged event reaches every server's subscribers, once: what the shared queue gave the
  // other server, this one read from the event log.
  EXPECT_TRUE(eventually([&] { return deliveredOn(a) == 10 && deliveredOn(b) == 10; },
                         kReplicationDeadline))
      << "a delivered " << deliveredOn(a) << ", b delivered " << deliveredOn(b);
  // Each broker copy went to one of the two, so the other one's came from the log.
  EXPECT_GE(caughtUpOn(a) + caughtUpOn(b), 10);
  RawAmqpClient client(cluster.broker());
  EXPECT_EQ(client.messageCount(queue), 0u);  // durable and drained
}

}  // namespace
}  // namespace busbar::testing

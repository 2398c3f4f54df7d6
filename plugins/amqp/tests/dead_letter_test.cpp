// What cannot be delivered ends in <exchange>.dead while the rest flows; events from an outside
// AMQP client in the documented format are consumed like busbar's own.
#include <gtest/gtest.h>

#include "amqp_cluster.h"

namespace busbar::testing {
namespace {

constexpr std::chrono::seconds kDeadLetterDeadline{20};

TEST(AmqpDeadLetterTest, MalformedMessagesAndFailingSubscribersAreDeadLettered) {
  AmqpCluster cluster("async_pass_through = true\n", "retries = 2\n");
  ServerProcess& a = cluster.startServer();
  ServerProcess& b = cluster.startServer();
  RawAmqpClient client(cluster.broker());
  const std::string dead = cluster.exchange() + ".dead";

  client.publish(cluster.exchange(), "this is not an envelope", "Garbage");
  // Well formed, but the users subscriber throws on a payload without "id".
  const std::string failing_id = newUuid();
  client.publish(cluster.exchange(),
                 outsideEnvelope("UserWasUpdated", failing_id, R"({"name":"no id"})"),
                 "UserWasUpdated", failing_id, "outside-client");
  // The rest flows.
  ASSERT_EQ(a.request("PUT", "/users/fine", R"({"name":"Fine"})").status, 201);
  EXPECT_TRUE(eventually([&] { return b.request("GET", "/users/fine").status == 200; },
                         kDeadLetterDeadline));

  // Each server has its own queue, so each dead-letters both messages.
  ASSERT_TRUE(eventually([&] { return client.messageCount(dead) == 4; }, kDeadLetterDeadline))
      << "dead letters: " << client.messageCount(dead) << "\n"
      << a.output();
  int invalid = 0;
  int failed = 0;
  for (int i = 0; i < 4; ++i) {
    auto letter = client.get(dead);
    ASSERT_TRUE(letter.has_value());
    EXPECT_EQ(letter->string_headers["x-busbar-exchange"], cluster.exchange());
    EXPECT_FALSE(letter->string_headers["x-busbar-server"].empty());
    EXPECT_FALSE(letter->string_headers["x-busbar-dead-lettered-at"].empty());
    const std::string& error = letter->string_headers["x-busbar-error"];
    if (letter->body == "this is not an envelope") {
      ++invalid;
      EXPECT_EQ(error, "invalid envelope: envelope must be a JSON object");
      EXPECT_EQ(letter->integer_headers["x-busbar-attempts"], 0);
      EXPECT_EQ(letter->type, "Garbage");
    } else {
      ++failed;
      EXPECT_NE(error.find("payload needs a string 'id'"), std::string::npos) << error;
      EXPECT_EQ(letter->integer_headers["x-busbar-attempts"], 3);  // 1 + retries
      EXPECT_EQ(letter->message_id, failing_id);
      EXPECT_EQ(letter->app_id, "outside-client");
    }
  }
  EXPECT_EQ(invalid, 2);
  EXPECT_EQ(failed, 2);
  // Acknowledged, not redelivered: nothing new arrives, and the servers still serve events.
  ASSERT_EQ(b.request("PUT", "/users/after", R"({"name":"After"})").status, 201);
  EXPECT_TRUE(eventually([&] { return a.request("GET", "/users/after").status == 200; },
                         kDeadLetterDeadline));
  EXPECT_EQ(client.messageCount(dead), 0u);
}

TEST(AmqpDeadLetterTest, EventsFromAnOutsideClientAreConsumed) {
  AmqpCluster cluster;
  ServerProcess& a = cluster.startServer();
  ServerProcess& b = cluster.startServer();
  RawAmqpClient client(cluster.broker());

  const std::string event_id = newUuid();
  client.publish(
      cluster.exchange(),
      outsideEnvelope("UserWasCreated", event_id,
                      R"({"id":"ext-1","name":"From outside","email":null,"version":1})"),
      "UserWasCreated", event_id, "outside-client");
  for (ServerProcess* server : {&a, &b}) {
    EXPECT_TRUE(eventually([&] { return server->request("GET", "/users/ext-1").status == 200; },
                           kDeadLetterDeadline))
        << server->output();
    EXPECT_EQ(parseJson(server->request("GET", "/users/ext-1").body)->getValue<std::string>("name"),
              "From outside");
  }
  EXPECT_EQ(client.messageCount(cluster.exchange() + ".dead"), 0u);
}

}  // namespace
}  // namespace busbar::testing

// AmqpPublisher against the real broker: the wire properties, confirms, and what a full queue
// does.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include <Poco/Logger.h>

#include "amqp_cluster.h"
#include "envelope.h"
#include "publisher.h"

namespace busbar::testing {
namespace {

amqp::PublisherOptions optionsFor(const BrokerAddress& broker, const std::string& exchange) {
  amqp::PublisherOptions options;
  options.connection.brokers = {{broker.host, broker.port}};
  options.connection.vhost = broker.vhost;
  options.connection.user = broker.user;
  options.connection.password = broker.password;
  options.exchanges = {exchange};
  return options;
}

Event userEvent(int version) {
  Event event;
  event.type = "UserWasUpdated";
  event.id = newUuid();
  event.origin = "publisher-test";
  event.version = version;
  event.payload->set("id", "u");
  event.payload->set("name", "U");
  event.payload->set("version", version);
  return event;
}

class AmqpPublisherTest : public ::testing::Test {
 protected:
  AmqpPublisherTest()
      : broker_(brokerFromEnvironment()),
        client_(broker_),
        exchange_("busbar.test.publisher." + newUuid().substr(0, 8)) {
    client_.declareExchange(exchange_);
    queue_ = client_.declareQueueBoundTo(exchange_);
  }

  BrokerAddress broker_;
  RawAmqpClient client_;
  std::string exchange_;
  std::string queue_;
  Poco::Logger& logger_ = Poco::Logger::get("amqp-publisher-test");
};

TEST_F(AmqpPublisherTest, PublishesPersistentJsonWithTheEventProperties) {
  amqp::AmqpPublisher publisher(optionsFor(broker_, exchange_), logger_, [] {});
  publisher.start();
  Event event = userEvent(4);
  ASSERT_TRUE(publisher.enqueue(amqp::messageForEvent(exchange_, event)));
  ASSERT_TRUE(eventually([&] { return publisher.confirmed() == 1; }));

  auto received = client_.get(queue_);
  ASSERT_TRUE(received.has_value());
  EXPECT_EQ(received->body, amqp::encodeEnvelope(event));
  EXPECT_EQ(received->content_type, "application/json");
  EXPECT_EQ(received->delivery_mode, 2);
  EXPECT_EQ(received->type, "UserWasUpdated");
  EXPECT_EQ(received->message_id, event.id);
  EXPECT_EQ(received->app_id, "publisher-test");
  EXPECT_EQ(received->timestamp, static_cast<uint64_t>(event.occurred_on.epochTime()));
  EXPECT_EQ(amqp::decodeEnvelope(received->body).event.version, 4);
  publisher.stop();
}

TEST_F(AmqpPublisherTest, KeepsOrderAcrossManyConfirmWindows) {
  amqp::PublisherOptions options = optionsFor(broker_, exchange_);
  options.confirm_window = 8;
  amqp::AmqpPublisher publisher(options, logger_, [] {});
  publisher.start();
  for (int version = 1; version <= 100; ++version) {
    ASSERT_TRUE(publisher.enqueue(amqp::messageForEvent(exchange_, userEvent(version))));
  }
  ASSERT_TRUE(eventually([&] { return publisher.confirmed() == 100; }));
  for (int version = 1; version <= 100; ++version) {
    auto received = client_.get(queue_);
    ASSERT_TRUE(received.has_value()) << version;
    EXPECT_EQ(amqp::decodeEnvelope(received->body).event.version, version);
  }
  EXPECT_EQ(publisher.dropped(), 0u);
  publisher.stop();
}

TEST_F(AmqpPublisherTest, AFullQueueDropsAndAsksForAResyncOnceDrained) {
  amqp::PublisherOptions options = optionsFor(broker_, exchange_);
  options.queue_capacity = 2;
  std::atomic<int> resyncs{0};
  amqp::AmqpPublisher publisher(options, logger_, [&] { ++resyncs; });
  // Not started yet: nothing leaves the queue.
  EXPECT_TRUE(publisher.enqueue(amqp::messageForEvent(exchange_, userEvent(1))));
  EXPECT_TRUE(publisher.enqueue(amqp::messageForEvent(exchange_, userEvent(2))));
  EXPECT_FALSE(publisher.enqueue(amqp::messageForEvent(exchange_, userEvent(3))));
  EXPECT_FALSE(publisher.enqueue(amqp::messageForEvent(exchange_, userEvent(4))));
  EXPECT_EQ(publisher.dropped(), 2u);
  EXPECT_EQ(resyncs.load(), 0);

  publisher.start();
  EXPECT_TRUE(eventually([&] { return publisher.confirmed() == 2 && resyncs.load() == 1; }));
  EXPECT_EQ(client_.messageCount(queue_), 2u);
  publisher.stop();
  EXPECT_EQ(resyncs.load(), 1);
}

// A queue that cannot take more (here a full one; in a cluster, a quorum queue without a majority
// of its nodes) makes the broker nack every message routed to it, for as long as it lasts. The
// publisher sends them again after a pause that doubles while the nacks go on, instead of at once
// (hundreds of nacks a second), and delivers them in order once the queue takes them. The other
// queues of the fanout took each nacked message already and take it again with each resend: they
// hold repeats (at least once), and the first of each comes in order.
TEST_F(AmqpPublisherTest, NackedMessagesAreSentAgainAfterAGrowingPauseAndDeliveredInOrder) {
  const std::string full = client_.declareQueueBoundTo(exchange_, 1);
  amqp::AmqpPublisher publisher(optionsFor(broker_, exchange_), logger_, [] {});
  publisher.start();
  ASSERT_TRUE(publisher.enqueue(amqp::messageForEvent(exchange_, userEvent(1))));
  ASSERT_TRUE(eventually([&] { return publisher.confirmed() == 1; }));
  ASSERT_TRUE(publisher.enqueue(amqp::messageForEvent(exchange_, userEvent(2))));
  ASSERT_TRUE(publisher.enqueue(amqp::messageForEvent(exchange_, userEvent(3))));
  ASSERT_TRUE(eventually([&] { return publisher.nacked() >= 1; }));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  // Pauses of 50, 100, 200, 400 and 800 ms fit in 2 s: a few nacks, not hundreds.
  EXPECT_LE(publisher.nacked(), 12u);
  EXPECT_EQ(publisher.confirmed(), 1u);
  // The full queue takes them one at a time as it is drained: in order, the nacked ones resent.
  std::vector<int> from_full;
  auto take = [&](const std::string& queue, std::vector<int>& into) {
    auto received = client_.get(queue);
    if (received) into.push_back(amqp::decodeEnvelope(received->body).event.version);
    return received.has_value();
  };
  ASSERT_TRUE(take(full, from_full));  // room for one more
  ASSERT_TRUE(eventually([&] { return take(full, from_full); }, std::chrono::seconds(10)));
  ASSERT_TRUE(eventually([&] { return publisher.confirmed() == 3; }, std::chrono::seconds(10)));
  publisher.stop();
  while (take(full, from_full)) {
  }
  EXPECT_EQ(from_full, (std::vector<int>{1, 2, 3}));
  // The other queue took each nacked message with each round: repeats, first ones in order.
  std::vector<int> all;
  while (take(queue_, all)) {
  }
  std::vector<int> first_seen;
  for (int version : all) {
    if (std::find(first_seen.begin(), first_seen.end(), version) == first_seen.end()) {
      first_seen.push_back(version);
    }
  }
  EXPECT_EQ(first_seen, (std::vector<int>{1, 2, 3}));
}

TEST_F(AmqpPublisherTest, StopPublishesWhatIsQueued) {
  amqp::AmqpPublisher publisher(optionsFor(broker_, exchange_), logger_, [] {});
  for (int version = 1; version <= 20; ++version) {
    ASSERT_TRUE(publisher.enqueue(amqp::messageForEvent(exchange_, userEvent(version))));
  }
  publisher.start();
  publisher.stop();
  EXPECT_EQ(publisher.confirmed(), 20u);
  EXPECT_EQ(client_.messageCount(queue_), 20u);
}

}  // namespace
}  // namespace busbar::testing

// AmqpTransport against the real broker, driven as the host drives it, with a stand-in
// InboundSink: who caused an event (AttributedTransport) reaches the consuming sink with it.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <Poco/Logger.h>

#include "amqp_cluster.h"
#include "amqp_transport.h"

namespace busbar::testing {
namespace {

// What reached the sink: the event, its log position (seq 0: none) and its principal.
struct RecordedDelivery {
  std::string event_id;
  uint64_t seq = 0;
  std::string principal;
};

// Records every delivery. It overrides the SDK 1.6 overloads, whose defaults drop the principal;
// the older ones record a principal no token can have, so that a consumer calling them shows.
class PrincipalRecordingSink : public InboundSink {
 public:
  static constexpr const char* kNoPrincipalPassed = "<delivered without a principal>";

  void deliver(const Event& event) override { record(event.id, 0, kNoPrincipalPassed); }
  void deliverSequenced(const Event& event, const EventLogSeq& at) override {
    record(event.id, at.seq, kNoPrincipalPassed);
  }
  void deliverAttributed(const Event& event, const std::string& principal) override {
    record(event.id, 0, principal);
  }
  void deliverSequencedAttributed(const Event& event, const EventLogSeq& at,
                                  const std::string& principal) override {
    record(event.id, at.seq, principal);
  }
  void reconnected() override {}

  // The delivery of the event `id`, waiting up to 10 s for it.
  std::optional<RecordedDelivery> waitFor(const std::string& id) {
    std::unique_lock<std::mutex> lock(mutex_);
    std::optional<RecordedDelivery> found;
    arrived_.wait_for(lock, std::chrono::seconds(10), [&] {
      for (const auto& delivery : deliveries_) {
        if (delivery.event_id == id) found = delivery;
      }
      return found.has_value();
    });
    return found;
  }

 private:
  void record(const std::string& id, uint64_t seq, const std::string& principal) {
    std::lock_guard<std::mutex> lock(mutex_);
    deliveries_.push_back({id, seq, principal});
    arrived_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<RecordedDelivery> deliveries_;
};

Event attributedTestEvent() {
  Event event;
  event.type = "UserWasUpdated";
  event.id = newUuid();
  event.origin = "amqp-transport-test";
  event.version = 1;
  event.payload->set("id", "u");
  event.payload->set("version", 1);
  return event;
}

class AmqpTransportTest : public ::testing::Test {
 protected:
  AmqpTransportTest() : exchange_("busbar.test.transport." + newUuid().substr(0, 8)) {
    const BrokerAddress broker = brokerFromEnvironment();
    settings_.connection.brokers = {{broker.host, broker.port}};
    settings_.connection.vhost = broker.vhost;
    settings_.connection.user = broker.user;
    settings_.connection.password = broker.password;
    host_.server_id = "amqp-transport-test";
    host_.exchanges = {{"events", exchange_}};
    host_.consumed = {{"events", exchange_, ""}};
  }

  amqp::AmqpSettings settings_;
  HostInfo host_;
  std::string exchange_;
  PrincipalRecordingSink sink_;
  Poco::Logger& logger_ = Poco::Logger::get("amqp-transport-test");
};

TEST_F(AmqpTransportTest, CarriesThePrincipalOfEachEventToTheConsumingSink) {
  amqp::AmqpTransport transport(settings_, host_, sink_, logger_);
  transport.start();
  AttributedTransport& attributed = transport;

  const Event unlogged = attributedTestEvent();
  attributed.publishAttributed(exchange_, unlogged, "deploy");

  const Event logged = attributedTestEvent();
  std::promise<bool> confirmed;
  std::future<bool> confirmation = confirmed.get_future();
  attributed.publishSequencedAttributed(
      exchange_, logged, EventLogSeq{7, "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", "req-1"},
      "ci_runner-2", [&](bool ok) { confirmed.set_value(ok); });

  // The interfaces of SDK 1.5 publish as caused by nobody.
  const Event anonymous = attributedTestEvent();
  transport.publish(exchange_, anonymous);
  const Event anonymous_logged = attributedTestEvent();
  transport.publishSequenced(exchange_, anonymous_logged,
                             EventLogSeq{8, "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", ""}, {});

  auto first = sink_.waitFor(unlogged.id);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->seq, 0u);
  EXPECT_EQ(first->principal, "deploy");

  auto second = sink_.waitFor(logged.id);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->seq, 7u);
  EXPECT_EQ(second->principal, "ci_runner-2");
  ASSERT_EQ(confirmation.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(confirmation.get());

  auto third = sink_.waitFor(anonymous.id);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->principal, "");

  auto fourth = sink_.waitFor(anonymous_logged.id);
  ASSERT_TRUE(fourth.has_value());
  EXPECT_EQ(fourth->seq, 8u);
  EXPECT_EQ(fourth->principal, "");
  transport.stop();
}

}  // namespace
}  // namespace busbar::testing

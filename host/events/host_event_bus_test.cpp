#include "events/host_event_bus.h"

#include <mutex>

#include <gtest/gtest.h>

#include "ops/request_context.h"

namespace busbar::host {
namespace {

// A transport that records what it is handed: the unit under test is the bus, not a broker.
class RecordingTransport : public Transport {
 public:
  void publish(const std::string& exchange, const Event& event) override {
    std::lock_guard<std::mutex> lock(mutex);
    published.emplace_back(exchange, event);
  }
  std::mutex mutex;
  std::vector<std::pair<std::string, Event>> published;
};

// A transport that also carries principals (SDK 1.6), recording who caused what it is handed.
class AttributingTransport : public RecordingTransport,
                             public SequencedTransport,
                             public AttributedTransport {
 public:
  void publishSequenced(const std::string& exchange, const Event& event, const EventLogSeq& at,
                        PublishSettled settled) override {
    publishSequencedAttributed(exchange, event, at, "(none: the call without a principal)",
                               std::move(settled));
  }
  void publishAttributed(const std::string& exchange, const Event& event,
                         const std::string& principal) override {
    publish(exchange, event);
    std::lock_guard<std::mutex> lock(mutex);
    principals.push_back(principal);
  }
  void publishSequencedAttributed(const std::string& exchange, const Event& event,
                                  const EventLogSeq& at, const std::string& principal,
                                  PublishSettled settled) override {
    publishAttributed(exchange, event, principal);
    if (settled) settled(true);
  }
  std::vector<std::string> principals;
};

struct Fixture {
  explicit Fixture(bool pass_through,
                   std::map<std::string, std::vector<std::string>> routes = {{"_all", {"events"}}})
      : bus("me:1", pass_through,
            EventRouter(routes, {{"events", "busbar.events"}, {"audit", "busbar.audit"}}),
            inline_bus, Poco::Logger::get("test")),
        transport(std::make_shared<RecordingTransport>()) {
    bus.setTransport(transport);
    inline_bus.subscribe(kAllEvents, 0, [this](const Event& event) { local.push_back(event); });
    inline_bus.open();
  }
  InlineBus inline_bus;
  HostEventBus bus;
  std::shared_ptr<RecordingTransport> transport;
  std::vector<Event> local;
};

Event outgoingEvent(const std::string& type) {
  Event event;
  event.type = type;
  event.version = 3;
  return event;
}

TEST(HostEventBusTest, StampsIdAndOriginAndPublishesToTheRoutedExchange) {
  Fixture fixture(true);
  fixture.bus.dispatch(outgoingEvent("UserWasCreated"));
  ASSERT_EQ(fixture.transport->published.size(), 1u);
  const auto& [exchange, event] = fixture.transport->published[0];
  EXPECT_EQ(exchange, "busbar.events");
  EXPECT_EQ(event.origin, "me:1");
  EXPECT_EQ(event.id.size(), 36u);
  EXPECT_EQ(event.version, 3);
}

TEST(HostEventBusTest, PassThroughDeliversLocallyAsWell) {
  Fixture fixture(true);
  fixture.bus.dispatch(outgoingEvent("A"));
  EXPECT_EQ(fixture.local.size(), 1u);
  EXPECT_EQ(fixture.transport->published.size(), 1u);
}

TEST(HostEventBusTest, WithoutPassThroughOnlyTheTransportGetsIt) {
  Fixture fixture(false);
  fixture.bus.dispatch(outgoingEvent("A"));
  EXPECT_TRUE(fixture.local.empty());
  EXPECT_EQ(fixture.transport->published.size(), 1u);
}

TEST(HostEventBusTest, LocalSubscriberFailureDoesNotFailTheDispatch) {
  Fixture fixture(true);
  fixture.inline_bus.subscribe("A", 10, [](const Event&) { throw std::runtime_error("boom"); });
  EXPECT_NO_THROW(fixture.bus.dispatch(outgoingEvent("A")));
  EXPECT_EQ(fixture.transport->published.size(), 1u);
}

TEST(HostEventBusTest, MiddlewareRunsByPriorityAndMayDrop) {
  Fixture fixture(true);
  std::vector<int> order;
  fixture.bus.addMiddleware(0, [&](Event& event, const std::function<void(Event&)>& next) {
    order.push_back(0);
    if (event.type != "Dropped") next(event);
  });
  fixture.bus.addMiddleware(10, [&](Event& event, const std::function<void(Event&)>& next) {
    order.push_back(10);
    event.version = 42;
    next(event);
  });
  fixture.bus.dispatch(outgoingEvent("A"));
  EXPECT_EQ(order, (std::vector<int>{10, 0}));
  ASSERT_EQ(fixture.transport->published.size(), 1u);
  EXPECT_EQ(fixture.transport->published[0].second.version, 42);
  fixture.bus.dispatch(outgoingEvent("Dropped"));
  EXPECT_EQ(fixture.transport->published.size(), 1u);
  EXPECT_EQ(fixture.local.size(), 1u);
}

TEST(HostEventBusTest, AnAttributedTransportGetsThePrincipalOfTheDispatchingRequest) {
  Fixture fixture(true);
  auto transport = std::make_shared<AttributingTransport>();
  fixture.bus.setTransport(transport);
  std::vector<std::string> seen;
  fixture.inline_bus.subscribeWithContext(
      kAllEvents, 0,
      [&](const Event&, const EventContext& context) { seen.push_back(context.principal); });
  {
    RequestScope scope("request-1", "alice");
    fixture.bus.dispatch(outgoingEvent("A"));
  }
  fixture.bus.dispatch(outgoingEvent("B"));
  EXPECT_EQ(transport->principals, (std::vector<std::string>{"alice", ""}));
  // Pass-through: this server's subscribers see the same principal.
  EXPECT_EQ(seen, (std::vector<std::string>{"alice", ""}));
}

TEST(EventRouterTest, TypeRoutesAllAndOthers) {
  EventRouter router({{"_all", {"events"}}, {"UserWasDeleted", {"audit"}}, {"_others", {}}},
                     {{"events", "e"}, {"audit", "a"}});
  EXPECT_EQ(router.exchangesFor("UserWasDeleted"), (std::vector<std::string>{"a", "e"}));
  EXPECT_EQ(router.exchangesFor("UserWasCreated"), std::vector<std::string>{"e"});

  EventRouter others({{"_others", {"audit"}}, {"A", {"events", "events"}}},
                     {{"events", "e"}, {"audit", "a"}});
  EXPECT_EQ(others.exchangesFor("A"), std::vector<std::string>{"e"});
  EXPECT_EQ(others.exchangesFor("B"), std::vector<std::string>{"a"});

  EventRouter none({}, {{"events", "e"}});
  EXPECT_TRUE(none.exchangesFor("A").empty());
}

}  // namespace
}  // namespace busbar::host

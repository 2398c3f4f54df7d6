#include "events/inline_bus.h"

#include <stdexcept>

#include <gtest/gtest.h>

#include "ops/request_context.h"

namespace busbar::host {
namespace {

Event inlineEvent(const std::string& type, const std::string& origin = "other:1") {
  Event event;
  event.type = type;
  event.origin = origin;
  return event;
}

TEST(InlineBusTest, RunsHandlersByPriorityThenRegistrationWithAllMerged) {
  InlineBus bus;
  std::vector<std::string> calls;
  bus.subscribe("A", 0, [&](const Event&) { calls.push_back("a0"); });
  bus.subscribe(kAllEvents, 5, [&](const Event&) { calls.push_back("all5"); });
  bus.subscribe("A", 10, [&](const Event&) { calls.push_back("a10"); });
  bus.subscribe(kAllEvents, 0, [&](const Event&) { calls.push_back("all0"); });
  bus.subscribe("A", 5, [&](const Event&) { calls.push_back("a5"); });
  bus.subscribe("B", 100, [&](const Event&) { calls.push_back("b100"); });
  bus.open();
  bus.deliverLocally(inlineEvent("A"));
  EXPECT_EQ(calls, (std::vector<std::string>{"a10", "all5", "a5", "a0", "all0"}));
}

TEST(InlineBusTest, AFailingHandlerDoesNotStopTheOthersButTheDeliveryFails) {
  InlineBus bus;
  int later = 0;
  bus.subscribe("A", 10, [](const Event&) { throw std::runtime_error("boom"); });
  bus.subscribe("A", 0, [&](const Event&) { ++later; });
  bus.open();
  EXPECT_THROW(bus.deliverLocally(inlineEvent("A")), std::runtime_error);
  EXPECT_EQ(later, 1);
  EXPECT_EQ(bus.failed(), 1u);
  EXPECT_EQ(bus.delivered(), 0u);
}

TEST(InlineBusTest, ADeliveryTriedAgainRunsOnlyTheSubscribersThatFailed) {
  InlineBus bus;
  int first = 0;
  int flaky = 0;
  int last = 0;
  bus.subscribe("A", 10, [&](const Event&) { ++first; });
  bus.subscribe(kAllEvents, 5, [&](const Event&) {
    if (++flaky < 3) throw std::runtime_error("the database is away");
  });
  bus.subscribe("A", 0, [&](const Event&) { ++last; });
  Event event = inlineEvent("A");
  InlineBus::Delivery delivery(bus, event);
  EXPECT_THROW(delivery.run(), std::runtime_error);
  EXPECT_THROW(delivery.run(), std::runtime_error);
  delivery.run();
  EXPECT_EQ(first, 1);
  EXPECT_EQ(flaky, 3);
  EXPECT_EQ(last, 1);
  EXPECT_EQ(bus.failed(), 2u);
  EXPECT_EQ(bus.delivered(), 1u);
}

TEST(InlineBusTest, LifecycleHandlersRunByPriority) {
  InlineBus bus;
  std::vector<int> calls;
  bus.onLifecycle(Lifecycle::kPreload, 0, [&] { calls.push_back(0); });
  bus.onLifecycle(Lifecycle::kPreload, 9, [&] { calls.push_back(9); });
  bus.onLifecycle(Lifecycle::kStart, 5, [&] { calls.push_back(5); });
  bus.fire(Lifecycle::kPreload);
  EXPECT_EQ(calls, (std::vector<int>{9, 0}));
  bus.fire(Lifecycle::kStop);
  EXPECT_EQ(calls.size(), 2u);
}

// The context comes from the RequestScope the delivery runs in: the request (and its caller) that
// emitted the event.
TEST(InlineBusTest, ASubscriberTakingAContextGetsThePrincipalAndRequestOfTheDeliveryScope) {
  InlineBus bus;
  std::vector<std::string> calls;
  std::vector<EventContext> contexts;
  bus.subscribe("A", 10, [&](const Event&) { calls.push_back("plain10"); });
  bus.subscribeWithContext("A", 5,
                           ContextEventHandler([&](const Event&, const EventContext& context) {
                             calls.push_back("context5");
                             contexts.push_back(context);
                           }));
  bus.subscribeWithContext(kAllEvents, 0, [&](const Event&, const EventContext& context) {
    calls.push_back("context0");
    contexts.push_back(context);
  });
  bus.open();
  {
    RequestScope scope("request-1", "alice");
    bus.deliverLocally(inlineEvent("A"));
  }
  bus.deliverLocally(inlineEvent("A"));
  EXPECT_EQ(calls, (std::vector<std::string>{"plain10", "context5", "context0", "plain10",
                                             "context5", "context0"}));
  ASSERT_EQ(contexts.size(), 4u);
  EXPECT_EQ(contexts[0].principal, "alice");
  EXPECT_EQ(contexts[0].request_id, "request-1");
  EXPECT_EQ(contexts[1].principal, "alice");
  EXPECT_EQ(contexts[2].principal, "");
  EXPECT_EQ(contexts[3].request_id, "");
}

}  // namespace
}  // namespace busbar::host

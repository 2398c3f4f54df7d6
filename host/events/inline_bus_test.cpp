#include "events/inline_bus.h"

#include <atomic>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

namespace busbar::host {
namespace {

Event eventOf(const std::string& type, const std::string& origin = "other:1") {
  Event event;
  event.type = type;
  event.origin = origin;
  return event;
}

class InlineBusTest : public ::testing::Test {
 protected:
  Poco::Logger& logger_ = Poco::Logger::get("test");
};

TEST_F(InlineBusTest, RunsHandlersByPriorityThenRegistrationWithAllMerged) {
  InlineBus bus("me:1", true, logger_);
  std::vector<std::string> calls;
  bus.subscribe("A", 0, [&](const Event&) { calls.push_back("a0"); });
  bus.subscribe(kAllEvents, 5, [&](const Event&) { calls.push_back("all5"); });
  bus.subscribe("A", 10, [&](const Event&) { calls.push_back("a10"); });
  bus.subscribe(kAllEvents, 0, [&](const Event&) { calls.push_back("all0"); });
  bus.subscribe("A", 5, [&](const Event&) { calls.push_back("a5"); });
  bus.subscribe("B", 100, [&](const Event&) { calls.push_back("b100"); });
  bus.open();
  bus.deliver(eventOf("A"));
  EXPECT_EQ(calls, (std::vector<std::string>{"a10", "all5", "a5", "a0", "all0"}));
}

TEST_F(InlineBusTest, AFailingHandlerDoesNotStopTheOthersButTheDeliveryFails) {
  InlineBus bus("me:1", true, logger_);
  int later = 0;
  bus.subscribe("A", 10, [](const Event&) { throw std::runtime_error("boom"); });
  bus.subscribe("A", 0, [&](const Event&) { ++later; });
  bus.open();
  EXPECT_THROW(bus.deliver(eventOf("A")), std::runtime_error);
  EXPECT_EQ(later, 1);
  EXPECT_EQ(bus.failed(), 1u);
  EXPECT_EQ(bus.delivered(), 0u);
}

TEST_F(InlineBusTest, DropsItsOwnEventsWhenPassThroughDeliveredThemAlready) {
  InlineBus bus("me:1", true, logger_);
  int calls = 0;
  bus.subscribe("A", 0, [&](const Event&) { ++calls; });
  bus.open();
  bus.deliver(eventOf("A", "me:1"));
  EXPECT_EQ(calls, 0);
  bus.deliver(eventOf("A", "other:2"));
  EXPECT_EQ(calls, 1);
}

TEST_F(InlineBusTest, DeliversItsOwnEventsWithoutPassThrough) {
  InlineBus bus("me:1", false, logger_);
  int calls = 0;
  bus.subscribe("A", 0, [&](const Event&) { ++calls; });
  bus.open();
  bus.deliver(eventOf("A", "me:1"));
  EXPECT_EQ(calls, 1);
}

TEST_F(InlineBusTest, HoldsDeliveriesUntilOpen) {
  InlineBus bus("me:1", true, logger_);
  std::atomic<bool> opened{false};
  std::atomic<bool> ran_before_open{false};
  std::atomic<int> calls{0};
  bus.subscribe("A", 0, [&](const Event&) {
    if (!opened) ran_before_open = true;
    ++calls;
  });
  std::thread transport([&] { bus.deliver(eventOf("A")); });
  // Give the transport thread time to reach deliver(); correctness does not depend on it.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  opened = true;
  bus.open();
  transport.join();
  EXPECT_FALSE(ran_before_open);
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(InlineBusTest, LifecycleHandlersRunByPriority) {
  InlineBus bus("me:1", true, logger_);
  std::vector<int> calls;
  bus.onLifecycle(Lifecycle::kPreload, 0, [&] { calls.push_back(0); });
  bus.onLifecycle(Lifecycle::kPreload, 9, [&] { calls.push_back(9); });
  bus.onLifecycle(Lifecycle::kStart, 5, [&] { calls.push_back(5); });
  bus.fire(Lifecycle::kPreload);
  EXPECT_EQ(calls, (std::vector<int>{9, 0}));
  bus.fire(Lifecycle::kStop);
  EXPECT_EQ(calls.size(), 2u);
}

TEST_F(InlineBusTest, ReconnectedFiresTheLifecycleMoment) {
  InlineBus bus("me:1", true, logger_);
  int resyncs = 0;
  bus.onLifecycle(Lifecycle::kReconnected, 0, [&] { ++resyncs; });
  bus.open();
  bus.reconnected();
  EXPECT_EQ(resyncs, 1);
}

}  // namespace
}  // namespace busbar::host

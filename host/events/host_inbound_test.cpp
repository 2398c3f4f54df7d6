#include "events/host_inbound.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace busbar::host {
namespace {

Event inboundEvent(const std::string& type, const std::string& origin = "other:1") {
  Event event;
  event.type = type;
  event.origin = origin;
  event.id = type + "-id";
  return event;
}

TEST(HostInboundTest, DropsItsOwnEventsWhenPassThroughDeliveredThemAlready) {
  InlineBus bus;
  HostInbound inbound("me:1", true, bus);
  int calls = 0;
  bus.subscribe("A", 0, [&](const Event&) { ++calls; });
  bus.open();
  inbound.deliver(inboundEvent("A", "me:1"));
  EXPECT_EQ(calls, 0);
  inbound.deliver(inboundEvent("A", "other:2"));
  EXPECT_EQ(calls, 1);
}

TEST(HostInboundTest, DeliversItsOwnEventsWithoutPassThrough) {
  InlineBus bus;
  HostInbound inbound("me:1", false, bus);
  int calls = 0;
  bus.subscribe("A", 0, [&](const Event&) { ++calls; });
  bus.open();
  inbound.deliver(inboundEvent("A", "me:1"));
  EXPECT_EQ(calls, 1);
}

TEST(HostInboundTest, HoldsDeliveriesUntilTheInlineBusOpens) {
  InlineBus bus;
  HostInbound inbound("me:1", true, bus);
  std::atomic<bool> opened{false};
  std::atomic<bool> ran_before_open{false};
  std::atomic<int> calls{0};
  bus.subscribe("A", 0, [&](const Event&) {
    if (!opened) ran_before_open = true;
    ++calls;
  });
  std::thread transport([&] { inbound.deliver(inboundEvent("A")); });
  // Give the transport thread time to reach deliver(); correctness does not depend on it.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  opened = true;
  bus.open();
  transport.join();
  EXPECT_FALSE(ran_before_open);
  EXPECT_EQ(calls.load(), 1);
}

TEST(HostInboundTest, ReconnectedMakesTheFollowerReloadTheSubscribers) {
  InlineBus bus;
  HostInbound inbound("me:1", true, bus);
  std::atomic<int> reloads{0};
  bus.onLifecycle(Lifecycle::kReconnected, 0, [&] { ++reloads; });
  EventLogFollower follower(
      nullptr, nullptr, nullptr, [&] { bus.fire(Lifecycle::kReconnected); }, {},
      Poco::Logger::get("test"));
  inbound.setEventLog(nullptr, nullptr, &follower);
  bus.open();
  follower.start();
  inbound.reconnected();
  for (int i = 0; i < 500 && reloads == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(reloads.load(), 1);
}

TEST(HostInboundTest, AFailedResynchronizationIsTriedAgainUntilItSucceeds) {
  InlineBus bus;
  HostInbound inbound("me:1", true, bus);
  std::atomic<int> attempts{0};
  FollowerOptions options;
  options.retry_initial = std::chrono::milliseconds(5);
  EventLogFollower follower(
      nullptr, nullptr, nullptr,
      [&] {
        if (++attempts < 3) throw std::runtime_error("the database is away");
      },
      options, Poco::Logger::get("test"));
  inbound.setEventLog(nullptr, nullptr, &follower);
  follower.start();
  inbound.reconnected();
  for (int i = 0; i < 500 && follower.figures().resyncs == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(attempts.load(), 3);
  EXPECT_EQ(follower.figures().resyncs, 1u);
  EXPECT_EQ(follower.figures().failures, 2u);
}

TEST(HostInboundTest, SequencedEventsGoThroughTheSequencerInOrder) {
  InlineBus bus;
  HostInbound inbound("me:1", true, bus);
  std::vector<std::string> seen;
  bus.subscribe(kAllEvents, 0, [&](const Event& event) { seen.push_back(event.type); });
  int gaps = 0;
  EventSequencer sequencer(
      [&](const Event& event, EventSource source) { inbound.deliverInOrder(event, source); },
      [&] { ++gaps; }, {}, Poco::Logger::get("test"));
  LogIdentity identity;
  identity.set("log-1");
  inbound.setEventLog(&sequencer, &identity, nullptr);
  bus.open();
  sequencer.resynchronize([] { return LogPosition{}; });
  inbound.deliverSequenced(inboundEvent("B"), {2, "log-1", ""});
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(gaps, 1);
  inbound.deliverSequenced(inboundEvent("A"), {1, "log-1", ""});
  inbound.deliverSequenced(inboundEvent("A"), {1, "log-1", ""});
  sequencer.waitUntilSettled();  // the sequencer's thread runs the subscribers
  EXPECT_EQ(seen, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(inbound.applyLag().snapshot().count(), 2u);
  EXPECT_EQ(inbound.consumed(), 3u);  // the duplicate too
  // Another cluster's log: its numbers mean nothing here; applied at once, by version.
  inbound.deliverSequenced(inboundEvent("C"), {7, "log-2", ""});
  EXPECT_EQ(seen, (std::vector<std::string>{"A", "B", "C"}));
}

TEST(HostInboundTest, SubscribersGetThePrincipalAndRequestTheTransportCarried) {
  InlineBus bus;
  HostInbound inbound("me:1", true, bus);
  std::vector<std::string> seen;
  bus.subscribeWithContext(kAllEvents, 0, [&](const Event& event, const EventContext& context) {
    seen.push_back(event.type + " " + context.principal + " " + context.request_id);
  });
  EventSequencer sequencer(
      [&](const Event& event, EventSource source) { inbound.deliverInOrder(event, source); }, [] {},
      {}, Poco::Logger::get("test"));
  LogIdentity identity;
  identity.set("log-1");
  inbound.setEventLog(&sequencer, &identity, nullptr);
  bus.open();
  sequencer.resynchronize([] { return LogPosition{}; });
  inbound.deliverSequencedAttributed(inboundEvent("A"), {1, "log-1", "request-1"}, "alice");
  inbound.deliverSequenced(inboundEvent("B"), {2, "log-1", "request-2"});  // an older transport
  sequencer.waitUntilSettled();  // the sequencer's thread runs the subscribers
  inbound.deliverSequencedAttributed(inboundEvent("C"), {7, "log-2", "request-3"}, "bob");
  inbound.deliverAttributed(inboundEvent("D"), "carol");  // not logged: no request id travels
  EXPECT_EQ(seen, (std::vector<std::string>{"A alice request-1", "B  request-2", "C bob request-3",
                                            "D carol "}));
}

TEST(HostInboundTest, ApplyLagKeepsItsLongestUntilReset) {
  InlineBus bus;
  bus.open();
  HostInbound inbound("me:1", true, bus);
  Event late = inboundEvent("Late");
  late.origin = "other:1";
  late.occurred_on = Poco::Timestamp() - 2500000;  // 2.5 s ago
  inbound.deliver(late);
  EXPECT_GE(inbound.applyLagMax(), 2.5);
  EXPECT_LT(inbound.applyLagMax(), 10.0);
  const auto snapshot = inbound.applyLag().snapshot();
  EXPECT_EQ(snapshot.count(), 1u);
  EXPECT_GE(snapshot.sum, 2.5);
  inbound.resetApplyLag();
  EXPECT_EQ(inbound.applyLagMax(), 0.0);
  EXPECT_EQ(inbound.applyLag().snapshot().count(), 0u);
  EXPECT_EQ(inbound.consumed(), 1u);
}

}  // namespace
}  // namespace busbar::host

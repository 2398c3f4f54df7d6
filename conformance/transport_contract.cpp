// The transport's contract (busbar-conformance transport), over the Transport a transport plugin
// provides as "transport": several servers in one process, each an instance of the plugin with a
// server_id of its own, the exchanges of the config's [event_bus] and a recording InboundSink.
//
// What it checks: every server hears every event; each producer's events arrive in the order it
// published them; a shared queue's events that a member took and never acknowledged (its
// delivery failed, then it stopped) reach the other member; a lost link to the broker ends in
// InboundSink::reconnected() and events flowing again; stop() returns while a delivery waits in
// the sink and while the broker holds what was published, and nothing is delivered after it
// returned; SequencedTransport, when implemented, settles each event once, true once the broker
// confirmed it, and carries its place in the event log to the consumers; AttributedTransport
// (SDK 1.6), when implemented, carries each event's principal to the consumers.
//
// Which tests apply: a transport that implements TransportHealth has a link to something outside
// the process (a broker): every test applies. One without it has no link the host can see, as the
// bundled local transport, which carries events within its own server only: the tests between
// servers and those about the link are skipped, saying so. The tests that cut the link need a
// proxy in front of the broker, which the config's [conformance] section describes:
//
//   [conformance]
//   broker = 127.0.0.1:5672               ; where the plugin's section reaches the broker
//   through_proxy.port = {proxy_port}     ; keys that make an instance reach it through a proxy
//   through_proxy.host = 127.0.0.1        ; ({proxy_port}: the port the suite's proxy listens on)
//
// The tests share the broker of the run's config: each names its servers (origin of its events)
// and its shared queue after a token of its own, and counts only its own events.

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "busbar/transport.h"
#include "contract_fixture.h"
#include "transport_fixture.h"

namespace busbar::conformance {
namespace {

using busbar::testing::TcpProxy;
using std::chrono::seconds;

TEST_P(TransportContract, EveryServerHearsEveryEvent) {
  if (notBetweenServers()) GTEST_SKIP() << kInProcess;
  constexpr int kEach = 20;
  std::vector<Server*> servers;
  for (const char* name : {"a", "b", "c"}) servers.push_back(&startServer(name, Consume::kOwn));
  std::set<EventKey> all;
  std::set<std::string> origins;
  for (Server* server : servers) {
    publish(*server, 1, kEach);
    const auto keys = keysOf(*server, 1, kEach);
    all.insert(keys.begin(), keys.end());
    origins.insert(server->id);
  }
  for (Server* server : servers) {
    EXPECT_TRUE(within(kHang, [&] { return server->sink->heardFrom(origins) == all; }))
        << "server " << server->id << " heard " << server->sink->heardFrom(origins).size()
        << " of the " << all.size() << " events the three servers published; missing:"
        << missing(all, server->sink->heardFrom(origins));
  }
}

TEST_P(TransportContract, EachProducersEventsArriveInTheOrderItPublishedThem) {
  constexpr int kEach = 50;
  Server& consumer = startServer("consumer", Consume::kOwn);
  std::vector<Server*> producers;
  if (between_servers_) {
    producers.push_back(&startServer("p1", Consume::kNothing));
    producers.push_back(&startServer("p2", Consume::kNothing));
  } else {
    producers.push_back(&consumer);  // in-process: a server hears its own events only
  }
  std::set<EventKey> all;
  std::set<std::string> origins;
  // Interleaved, from two threads when there are two producers: their order between each other
  // is free, each one's own is not.
  std::vector<std::thread> threads;
  for (Server* producer : producers) {
    const auto keys = keysOf(*producer, 1, kEach);
    all.insert(keys.begin(), keys.end());
    origins.insert(producer->id);
    threads.emplace_back(failsTheTestOnThrow([this, producer] { publish(*producer, 1, kEach); }));
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(within(kHang, [&] { return consumer.sink->heardFrom(origins) == all; }))
      << "the consumer heard " << consumer.sink->heardFrom(origins).size() << " of " << all.size()
      << " events; missing:" << missing(all, consumer.sink->heardFrom(origins));
  // A redelivery may repeat an event; what is new must come in order.
  std::map<std::string, int64_t> last;
  for (const auto& heard : consumer.sink->heard()) {
    if (origins.count(heard.event.origin) == 0) continue;
    EXPECT_FALSE(heard.sequenced) << "an event handed to publish() reached the consumer through "
                                     "deliverSequenced(): it carries no place in the event log";
    int64_t& seen = last[heard.event.origin];
    if (heard.event.version <= seen) continue;
    EXPECT_EQ(heard.event.version, seen + 1)
        << heard.event.origin << "'s event #" << heard.event.version << " arrived after #" << seen
        << ", before #" << seen + 1;
    seen = heard.event.version;
  }
}

TEST_P(TransportContract, ASharedQueuesEventsAMemberTookAndNeverAcknowledgedReachTheOtherMember) {
  if (notBetweenServers()) GTEST_SKIP() << kInProcess;
  Server& dying = startServer("dying", Consume::kShared);
  Server& survivor = startServer("survivor", Consume::kShared);
  Server& producer = startServer("producer", Consume::kNothing);
  dying.sink->hold();
  // The members take turns as the broker hands the events out: publish until one reached the
  // member that will die.
  int64_t published = 0;
  for (int round = 0; round < 20 && dying.sink->waiting() == 0; ++round) {
    publish(producer, published + 1, published + 5);
    published += 5;
    within(seconds(2), [&] { return dying.sink->waiting() > 0; });
  }
  ASSERT_GT(dying.sink->waiting(), 0u)
      << "none of " << published << " events published to the shared queue " << shared_queue_
      << " reached one of its two members";
  // It dies with the delivery in hand: its subscribers fail (the event is not delivered) as it
  // stops. The failure comes once stop() began, so that a transport that retries failed
  // deliveries has no time to give up on the event before it stops.
  std::atomic<bool> stopping{false};
  std::thread failer(failsTheTestOnThrow([&] {
    within(kHang, [&] { return stopping.load(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    dying.sink->fail("the server died before its subscribers finished");
  }));
  stopping = true;
  dying.stop();
  failer.join();
  for (const auto& heard : dying.sink->heard()) {
    ADD_FAILURE() << "the dying member's sink returned for " << heard.event.origin << "#"
                  << heard.event.version << " although it was set to fail";
  }
  // What it took comes to the survivor, and so does what is published after it died.
  publish(producer, published + 1, published + 5);
  published += 5;
  const auto all = keysOf(producer, 1, published);
  std::set<EventKey> taken_by_dying;
  for (const auto& taken : dying.sink->taken()) {
    if (taken.event.origin == producer.id) {
      taken_by_dying.insert({taken.event.origin, taken.event.version});
    }
  }
  EXPECT_TRUE(within(kHang, [&] { return survivor.sink->heardFrom({producer.id}) == all; }))
      << "the survivor heard " << survivor.sink->heardFrom({producer.id}).size() << " of "
      << all.size() << " events; missing:" << missing(all, survivor.sink->heardFrom({producer.id}))
      << "; missing of those the dead member took unacknowledged:"
      << missing(taken_by_dying, survivor.sink->heardFrom({producer.id}));
}

TEST_P(TransportContract, ALostLinkEndsInReconnectedAndEventsFlowAgain) {
  if (notBetweenServers()) GTEST_SKIP() << kInProcess;
  if (!canProxy()) GTEST_SKIP() << kNoProxy;
  auto proxy = proxyToBroker();
  Server& cut_off = startServer("cut-off", Consume::kOwn, proxy.get());
  Server& producer = startServer("producer", Consume::kNothing);
  waitConnected(cut_off);
  publish(producer, 1, 1);
  ASSERT_TRUE(within(kHang, [&] { return cut_off.sink->heardFrom({producer.id}).size() == 1; }))
      << "the server behind the proxy heard nothing before the cut";
  const int before = cut_off.sink->reconnects();

  // The broker goes away for it (connections closed, new ones refused): what is published
  // meanwhile may be lost to it, so it must ask its subscribers to resynchronize.
  proxy->cut();
  EXPECT_TRUE(within(kHang, [&] { return !cut_off.unavailable().empty(); }))
      << "TransportHealth::unavailable() still says \"\" with the link to the broker cut";
  publish(producer, 2, 2);
  proxy->start();
  EXPECT_TRUE(within(kHang, [&] { return cut_off.sink->reconnects() > before; }))
      << "InboundSink::reconnected() was not called after the link to the broker was cut and "
         "came back (an event was published meanwhile)";
  waitConnected(cut_off);
  // Events flow again: a few, as a transport may take a moment to consume again after it
  // reconnected (an event published before that is what reconnected() covers).
  int64_t next = 3;
  EXPECT_TRUE(within(kHang, [&] {
    publish(producer, next, next);
    ++next;
    return within(seconds(1), [&] {
      for (const auto& key : cut_off.sink->heardFrom({producer.id})) {
        if (key.second >= 3) return true;
      }
      return false;
    });
  })) << "no event published after the link came back reached the server";
}

TEST_P(TransportContract, StopReturnsWhileADeliveryWaitsInTheSinkAndDeliversNothingAfter) {
  Server& consumer = startServer("consumer", Consume::kOwn);
  Server& producer = between_servers_ ? startServer("producer", Consume::kNothing) : consumer;
  consumer.sink->hold();
  publish(producer, 1, 10);
  ASSERT_TRUE(within(kHang, [&] { return consumer.sink->waiting() > 0; }))
      << "no delivery reached the consumer's sink";
  // As the host does at shutdown: stop() begins while the delivery waits (a subscriber busy,
  // the bus still preloading), and the host lets it go. The stop must then end, without
  // delivering the rest of the queue for ever, and nothing may be delivered after it returned
  // (the sink fails the test if it is).
  std::atomic<bool> stopping{false};
  std::thread releaser(failsTheTestOnThrow([&] {
    within(kHang, [&] { return stopping.load(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    consumer.sink->release();
  }));
  stopping = true;
  consumer.stop();
  releaser.join();
  if (&producer != &consumer) {
    publish(producer, 11, 12);
    // A server that still consumes hears these: give it the time to, from another one.
    Server& witness = startServer("witness", Consume::kOwn);
    waitConnected(witness);
    publish(producer, 13, 13);
    EXPECT_TRUE(within(kHang, [&] {
      return witness.sink->heardFrom({producer.id}).count({producer.id, 13}) > 0;
    })) << "a server started after the stop did not hear an event published after it";
  }
}

TEST_P(TransportContract, StopReturnsWhileTheBrokerHoldsWhatWasPublishedAndSettlesEachOnce) {
  if (notBetweenServers()) GTEST_SKIP() << kInProcess;
  if (!canProxy()) GTEST_SKIP() << kNoProxy;
  auto proxy = proxyToBroker();
  Server& publisher = startServer("publisher", Consume::kNothing, proxy.get());
  waitConnected(publisher);
  // A link that hangs (no FIN, no reset, as a lost network looks): nothing the transport sends
  // is answered, publishes pile up, confirms never come.
  proxy->partition(TcpProxy::Partition::kBoth);
  constexpr int kEvents = 5;
  std::mutex mutex;
  std::map<int64_t, int> settled_count;
  auto sequenced = std::dynamic_pointer_cast<SequencedTransport>(publisher.transport);
  const std::string log_id = newUuid();
  for (int64_t n = 1; n <= kEvents; ++n) {
    if (sequenced) {
      sequenced->publishSequenced(exchange_, eventOf(publisher, n),
                                  EventLogSeq{static_cast<uint64_t>(n), log_id, ""}, [&, n](bool) {
                                    std::lock_guard<std::mutex> lock(mutex);
                                    ++settled_count[n];
                                  });
    } else {
      publisher.transport->publish(exchange_, eventOf(publisher, n));
    }
  }
  publisher.stop();  // fails the test and ends the run if it hangs
  if (!sequenced) return;
  // "Calls settled exactly once, also when the transport stops first": by the time the instance
  // is gone, each event was settled, once.
  std::lock_guard<std::mutex> lock(mutex);
  for (int64_t n = 1; n <= kEvents; ++n) {
    EXPECT_EQ(settled_count[n], 1) << "event #" << n << " was settled " << settled_count[n]
                                   << " times by the time the stopped instance was destroyed";
  }
}

TEST_P(TransportContract, PublishSequencedSettlesTrueOnceConfirmedAndCarriesItsPlace) {
  if (!sequenced_) {
    GTEST_SKIP() << "the transport does not implement busbar::SequencedTransport (optional)";
  }
  Server& consumer = startServer("consumer", Consume::kOwn);
  Server& producer = between_servers_ ? startServer("producer", Consume::kNothing) : consumer;
  auto sequenced = std::dynamic_pointer_cast<SequencedTransport>(producer.transport);
  ASSERT_NE(sequenced, nullptr);
  constexpr int kEvents = 10;
  const std::string log_id = newUuid();
  std::mutex mutex;
  std::map<int64_t, std::vector<bool>> settled;
  for (int64_t n = 1; n <= kEvents; ++n) {
    sequenced->publishSequenced(
        exchange_, eventOf(producer, n),
        EventLogSeq{static_cast<uint64_t>(1000 + n), log_id, "req-" + std::to_string(n)},
        [&, n](bool confirmed) {
          std::lock_guard<std::mutex> lock(mutex);
          settled[n].push_back(confirmed);
        });
  }
  const auto all = keysOf(producer, 1, kEvents);
  ASSERT_TRUE(within(kHang, [&] { return consumer.sink->heardFrom({producer.id}) == all; }))
      << "the consumer heard " << consumer.sink->heardFrom({producer.id}).size() << " of "
      << kEvents << " events; missing:" << missing(all, consumer.sink->heardFrom({producer.id}));
  EXPECT_TRUE(within(kHang, [&] {
    std::lock_guard<std::mutex> lock(mutex);
    return settled.size() == static_cast<size_t>(kEvents);
  })) << "not every event published with publishSequenced() was settled";
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (int64_t n = 1; n <= kEvents; ++n) {
      EXPECT_EQ(settled[n], std::vector<bool>{true})
          << "event #" << n << ": settled must be called once, with true, when the broker "
          << "confirmed it (the broker is up and the event was delivered)";
    }
  }
  for (const auto& heard : consumer.sink->heard()) {
    if (heard.event.origin != producer.id) continue;
    const auto n = heard.event.version;
    EXPECT_TRUE(heard.sequenced) << "event #" << n << " reached the consumer through deliver(), "
                                 << "not deliverSequenced(): its place in the log was lost";
    EXPECT_EQ(heard.at.seq, static_cast<uint64_t>(1000 + n)) << "event #" << n;
    EXPECT_EQ(heard.at.log_id, log_id) << "event #" << n;
    EXPECT_EQ(heard.at.request_id, "req-" + std::to_string(n)) << "event #" << n;
  }
}

TEST_P(TransportContract, AnAttributedTransportCarriesWhoCausedEachEvent) {
  if (!attributed_) {
    GTEST_SKIP() << "the transport does not implement busbar::AttributedTransport (optional, "
                    "SDK 1.6): other servers' subscribers get no principal";
  }
  Server& consumer = startServer("consumer", Consume::kOwn);
  Server& producer = between_servers_ ? startServer("producer", Consume::kNothing) : consumer;
  auto attributed = std::dynamic_pointer_cast<AttributedTransport>(producer.transport);
  auto sequenced = std::dynamic_pointer_cast<SequencedTransport>(producer.transport);
  ASSERT_NE(attributed, nullptr);
  // Odd events are caused by a token, even ones by nobody; with SequencedTransport the second
  // half is logged.
  constexpr int kEvents = 8;
  auto principalOf = [](int64_t n) { return n % 2 == 1 ? "deploy-" + std::to_string(n) : ""; };
  const std::string log_id = newUuid();
  for (int64_t n = 1; n <= kEvents; ++n) {
    if (sequenced_ && n > kEvents / 2) {
      attributed->publishSequencedAttributed(exchange_, eventOf(producer, n),
                                             EventLogSeq{static_cast<uint64_t>(n), log_id, ""},
                                             principalOf(n), [](bool) {});
    } else {
      attributed->publishAttributed(exchange_, eventOf(producer, n), principalOf(n));
    }
  }
  const auto all = keysOf(producer, 1, kEvents);
  ASSERT_TRUE(within(kHang, [&] { return consumer.sink->heardFrom({producer.id}) == all; }))
      << "the consumer heard " << consumer.sink->heardFrom({producer.id}).size() << " of "
      << kEvents << " events; missing:" << missing(all, consumer.sink->heardFrom({producer.id}));
  for (const auto& heard : consumer.sink->heard()) {
    if (heard.event.origin != producer.id) continue;
    const auto n = heard.event.version;
    EXPECT_EQ(heard.principal, principalOf(n))
        << "event #" << n << " was published by "
        << (heard.sequenced ? "publishSequenced" : "publish") << " with principal '"
        << principalOf(n)
        << "'; the consumer must hand it to InboundSink::deliver or deliverSequenced with that "
           "principal (\"\" for none)";
  }
}

INSTANTIATE_TEST_SUITE_P(Plugin, TransportContract, ::testing::ValuesIn(pluginUnderTestName()),
                         pluginParamName);

}  // namespace
}  // namespace busbar::conformance

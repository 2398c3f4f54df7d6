#include "events/event_sequencer.h"

#include <algorithm>
#include <atomic>
#include <future>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "ops/request_context.h"

namespace busbar::host {
namespace {

Event eventNumber(uint64_t seq) {
  Event event;
  event.type = "T";
  event.id = "id-" + std::to_string(seq);
  return event;
}

// A sequencer whose subscribers record the ids they get, and fail on demand.
struct SequencerFixture {
  explicit SequencerFixture(SequencerOptions options = {})
      : sequencer(
            [this](const Event& event, EventSource) {
              if (failing.count(event.id) != 0) throw std::runtime_error("subscriber broke");
              std::lock_guard<std::mutex> lock(mutex);
              delivered.push_back(event.id);
            },
            [this] { ++gaps_reported; }, options, Poco::Logger::get("test"),
            [this](const LoggedEvent2& logged, const std::string& error) {
              std::lock_guard<std::mutex> lock(mutex);
              set_aside.push_back(std::to_string(logged.seq) + " " + logged.event.id + ": " +
                                  error);
            }) {}

  // Offers, and returns once the sequencer's thread delivered what it could.
  void offer(uint64_t seq, EventSource source = EventSource::kTransport) {
    sequencer.offer(seq, eventNumber(seq), source);
    sequencer.waitUntilSettled();
  }
  void preloadAt(uint64_t seq) {
    sequencer.resynchronize([seq] {
      return LogPosition{seq, seq ? "id-" + std::to_string(seq) : ""};
    });
  }
  std::vector<std::string> ids(uint64_t first, uint64_t last) const {
    std::vector<std::string> out;
    for (uint64_t seq = first; seq <= last; ++seq) out.push_back("id-" + std::to_string(seq));
    return out;
  }

  std::mutex mutex;
  std::vector<std::string> delivered;
  std::vector<std::string> set_aside;  // "seq id: error", as handed to the parking lot
  std::set<std::string> failing;
  std::atomic<int> gaps_reported{0};
  EventSequencer sequencer;
};

TEST(EventSequencerTest, HoldsEverythingUntilThePreloadThenDeliversWhatFollowsIt) {
  SequencerFixture fixture;
  fixture.offer(1);
  fixture.offer(2);
  EXPECT_TRUE(fixture.delivered.empty());
  EXPECT_EQ(fixture.gaps_reported, 0);
  fixture.preloadAt(1);  // the preload's state reflects seq 1
  // What waited is dropped (the next catch-up reads it again), so 2 must come again.
  EXPECT_TRUE(fixture.delivered.empty());
  fixture.offer(2, EventSource::kLog);
  EXPECT_EQ(fixture.delivered, fixture.ids(2, 2));
  EXPECT_EQ(fixture.sequencer.applied().seq, 2u);
  EXPECT_EQ(fixture.sequencer.applied().event_id, "id-2");
}

TEST(EventSequencerTest, DeliversInSequenceOrderAndDropsWhatItHasSeen) {
  SequencerFixture fixture;
  fixture.preloadAt(0);
  fixture.offer(3);
  fixture.offer(2);
  EXPECT_TRUE(fixture.delivered.empty());
  EXPECT_EQ(fixture.gaps_reported, 1);  // reported once, when 3 arrived beyond the gap
  ASSERT_TRUE(fixture.sequencer.gap());
  EXPECT_EQ(fixture.sequencer.gap()->first, 1u);
  EXPECT_EQ(fixture.sequencer.gap()->last, 1u);
  fixture.offer(3);  // waiting already
  fixture.offer(1, EventSource::kLog);
  EXPECT_EQ(fixture.delivered, fixture.ids(1, 3));
  fixture.offer(2);  // applied already
  fixture.offer(1, EventSource::kOwnCommit);
  EXPECT_EQ(fixture.delivered, fixture.ids(1, 3));
  auto counters = fixture.sequencer.counters();
  EXPECT_EQ(counters.delivered, 3u);
  EXPECT_EQ(counters.from_log, 1u);
  EXPECT_EQ(counters.duplicates, 3u);
  EXPECT_EQ(counters.waiting, 0u);
  EXPECT_FALSE(fixture.sequencer.gap());
}

TEST(EventSequencerTest, AGapThatADeliveryStopsAtAfterTheOneBeforeWasFilledIsReportedToo) {
  // Events 2 and 4 arrive, 1 and 3 do not: one gap is reported. Once the follower fills 1, the
  // delivery stops at 3: a second gap, which the follower must hear of too, not only at its
  // periodic read.
  SequencerFixture fixture;
  fixture.preloadAt(0);
  fixture.offer(2);
  fixture.offer(4);
  EXPECT_EQ(fixture.gaps_reported, 1);
  fixture.offer(1, EventSource::kLog);
  EXPECT_EQ(fixture.delivered, fixture.ids(1, 2));
  EXPECT_EQ(fixture.gaps_reported, 2);
  ASSERT_TRUE(fixture.sequencer.gap());
  EXPECT_EQ(fixture.sequencer.gap()->first, 3u);
  fixture.offer(5);  // beyond the same gap: reported already
  EXPECT_EQ(fixture.gaps_reported, 2);
  fixture.offer(3, EventSource::kLog);
  EXPECT_EQ(fixture.delivered, fixture.ids(1, 5));
  EXPECT_EQ(fixture.gaps_reported, 2);
  EXPECT_EQ(fixture.sequencer.counters().gaps, 2u);
}

TEST(EventSequencerTest, ADeliveryThatFailsIsSetAsideAndTheRestFlows) {
  SequencerFixture fixture;
  fixture.preloadAt(0);
  fixture.failing.insert("id-2");
  for (uint64_t seq = 1; seq <= 3; ++seq) fixture.offer(seq);
  EXPECT_EQ(fixture.delivered, (std::vector<std::string>{"id-1", "id-3"}));
  EXPECT_EQ(fixture.sequencer.counters().set_aside, 1u);
  EXPECT_EQ(fixture.set_aside, std::vector<std::string>{"2 id-2: subscriber broke"});
  EXPECT_EQ(fixture.sequencer.applied().seq, 3u);
}

TEST(EventSequencerTest, NothingIsDeliveredWhileSomethingRunsExclusivelyAndAllFlowsAfter) {
  SequencerFixture fixture;
  fixture.preloadAt(0);
  fixture.offer(1);
  std::vector<std::string> seen_inside;
  fixture.sequencer.exclusive([&] {
    fixture.offer(2);
    fixture.offer(3);
    seen_inside = fixture.delivered;
  });
  fixture.sequencer.waitUntilSettled();
  EXPECT_EQ(seen_inside, fixture.ids(1, 1));
  EXPECT_EQ(fixture.delivered, fixture.ids(1, 3));
  // A failure inside propagates, and deliveries resume all the same.
  EXPECT_THROW(fixture.sequencer.exclusive([&] {
    fixture.offer(4);
    throw std::runtime_error("replay failed");
  }),
               std::runtime_error);
  fixture.sequencer.waitUntilSettled();
  EXPECT_EQ(fixture.delivered, fixture.ids(1, 4));
}

TEST(EventSequencerTest, AFailedResynchronizationLeavesDeliveriesAsTheyWere) {
  SequencerFixture fixture;
  fixture.preloadAt(0);
  fixture.offer(1);
  EXPECT_THROW(fixture.sequencer.resynchronize(
                   []() -> LogPosition { throw std::runtime_error("the database is away"); }),
               std::runtime_error);
  fixture.offer(2);
  EXPECT_EQ(fixture.delivered, fixture.ids(1, 2));
}

TEST(EventSequencerTest, TooManyWaitingEventsAreDroppedAndReportedAsAGap) {
  SequencerOptions options;
  options.max_waiting = 3;
  SequencerFixture fixture(options);
  fixture.preloadAt(0);
  for (uint64_t seq = 2; seq <= 6; ++seq) fixture.offer(seq);
  auto counters = fixture.sequencer.counters();
  EXPECT_EQ(counters.waiting, 3u);
  EXPECT_EQ(counters.overflowed, 2u);
  for (uint64_t seq = 1; seq <= 6; ++seq) fixture.offer(seq, EventSource::kLog);
  EXPECT_EQ(fixture.delivered, fixture.ids(1, 6));
}

TEST(EventSequencerTest, EachEventIsDeliveredUnderTheRequestThatEmittedIt) {
  std::vector<std::string> request_ids;
  std::vector<std::string> principals;
  EventSequencer sequencer(
      [&](const Event&, EventSource) {
        request_ids.emplace_back(currentRequestId());
        principals.emplace_back(currentPrincipal());
      },
      [] {}, {}, Poco::Logger::get("test"));
  sequencer.resynchronize([] { return LogPosition{}; });
  sequencer.offer(2, eventNumber(2), EventSource::kTransport, "second", "bob");
  RequestScope offering("the offering thread's own", "carol");
  sequencer.offer(1, eventNumber(1), EventSource::kLog, "first", "alice");
  sequencer.offer(3, eventNumber(3), EventSource::kLog);
  sequencer.waitUntilSettled();
  EXPECT_EQ(request_ids, (std::vector<std::string>{"first", "second", ""}));
  EXPECT_EQ(principals, (std::vector<std::string>{"alice", "bob", ""}));
  EXPECT_EQ(currentRequestId(), "the offering thread's own");
  EXPECT_EQ(currentPrincipal(), "carol");
}

TEST(EventSequencerTest, AnEventSetAsideKeepsItsRequestAndPrincipal) {
  std::vector<LoggedEvent2> set_aside;
  EventSequencer sequencer(
      [](const Event&, EventSource) { throw std::runtime_error("broke"); }, [] {}, {},
      Poco::Logger::get("test"),
      [&](const LoggedEvent2& logged, const std::string&) { set_aside.push_back(logged); });
  sequencer.resynchronize([] { return LogPosition{}; });
  sequencer.offer(1, eventNumber(1), EventSource::kTransport, "request-1", "alice");
  sequencer.waitUntilSettled();
  ASSERT_EQ(set_aside.size(), 1u);
  EXPECT_EQ(set_aside[0].seq, 1u);
  EXPECT_EQ(set_aside[0].request_id, "request-1");
  EXPECT_EQ(set_aside[0].principal, "alice");
}

TEST(EventSequencerTest, ManyThreadsOfferingInAnyOrderDeliverEachEventOnceInOrder) {
  // The transport, this server's commits and the follower all offer at once, with duplicates.
  SequencerFixture fixture;
  fixture.preloadAt(0);
  constexpr uint64_t kEvents = 3000;
  std::atomic<int> in_delivery{0};
  std::atomic<bool> overlapped{false};
  EventSequencer sequencer(
      [&](const Event& event, EventSource) {
        if (++in_delivery > 1) overlapped = true;
        {
          std::lock_guard<std::mutex> lock(fixture.mutex);
          fixture.delivered.push_back(event.id);
        }
        --in_delivery;
      },
      [] {}, {}, Poco::Logger::get("test"));
  sequencer.resynchronize([] { return LogPosition{}; });
  std::vector<std::thread> offerers;
  for (int t = 0; t < 4; ++t) {
    offerers.emplace_back([&, t] {
      std::vector<uint64_t> order;
      for (uint64_t seq = 1; seq <= kEvents; ++seq) order.push_back(seq);
      std::mt19937 random(static_cast<unsigned>(t));
      // Nearly in order, as broker deliveries are: shuffle within windows of 50.
      for (size_t start = 0; start < order.size(); start += 50) {
        std::shuffle(order.begin() + start, order.begin() + std::min(order.size(), start + 50),
                     random);
      }
      for (uint64_t seq : order) sequencer.offer(seq, eventNumber(seq), EventSource::kTransport);
    });
  }
  for (auto& thread : offerers) thread.join();
  sequencer.waitUntilSettled();
  EXPECT_FALSE(overlapped);
  EXPECT_EQ(fixture.delivered, fixture.ids(1, kEvents));
  EXPECT_EQ(sequencer.counters().duplicates, 3 * kEvents);
}

TEST(EventSequencerTest, AResynchronizationWaitsForTheDeliveryInProgress) {
  std::atomic<bool> delivering{false};
  std::atomic<bool> reload_overlapped{false};
  std::mutex gate;
  gate.lock();
  EventSequencer sequencer(
      [&](const Event&, EventSource) {
        delivering = true;
        std::lock_guard<std::mutex> wait(gate);  // held until the test lets it go
        delivering = false;
      },
      [] {}, {}, Poco::Logger::get("test"));
  sequencer.resynchronize([] { return LogPosition{}; });
  std::thread offer([&] { sequencer.offer(1, eventNumber(1), EventSource::kTransport); });
  while (!delivering) std::this_thread::yield();
  std::thread resync([&] {
    sequencer.resynchronize([&] {
      if (delivering) reload_overlapped = true;
      return LogPosition{10, "id-10"};
    });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  gate.unlock();
  offer.join();
  resync.join();
  EXPECT_FALSE(reload_overlapped);
  EXPECT_EQ(sequencer.applied().seq, 10u);
}

TEST(EventSequencerTest, ACloseEndsTheDeliveryInProgressThoughMoreEventsArrive) {
  // A stop must not wait for deliveries that go on as fast as the transport brings events: the
  // thread delivering event 1 gets 2..50 meanwhile, and after close() it ends without them. close()
  // returns once the event in hand is delivered, so that no subscriber runs after it.
  std::atomic<bool> delivering{false};
  std::vector<std::string> delivered;
  std::mutex gate;
  gate.lock();
  EventSequencer sequencer(
      [&](const Event& event, EventSource) {
        delivered.push_back(event.id);  // on the sequencer's one thread
        delivering = true;
        std::lock_guard<std::mutex> wait(gate);  // held until the test lets it go
      },
      [] {}, {}, Poco::Logger::get("test"));
  sequencer.resynchronize([] { return LogPosition{}; });
  // From a thread of its own: were subscribers to run on the offering thread, it would wait here.
  std::thread first([&] { sequencer.offer(1, eventNumber(1), EventSource::kLog); });
  while (!delivering) std::this_thread::yield();
  for (uint64_t seq = 2; seq <= 50; ++seq) {
    sequencer.offer(seq, eventNumber(seq), EventSource::kTransport);
  }
  EXPECT_EQ(sequencer.counters().waiting, 49u);
  std::atomic<bool> closed{false};
  std::thread closing([&] {
    sequencer.close();
    closed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(closed) << "close() returned while a subscriber still ran";
  gate.unlock();
  closing.join();
  first.join();
  EXPECT_EQ(delivered, std::vector<std::string>{"id-1"});
  // Later offers are dropped, the next one included.
  sequencer.offer(51, eventNumber(51), EventSource::kTransport);
  EXPECT_EQ(delivered, std::vector<std::string>{"id-1"});
  EXPECT_EQ(sequencer.counters().waiting, 0u);
  EXPECT_FALSE(sequencer.gap());
}

TEST(EventSequencerTest, AnOfferReturnsAtOnceWhileTheSubscribersAreBusy) {
  // The transport's consumer offers and then acknowledges; it must not stay in the subscribers
  // for as long as other threads keep events coming behind its own (its broker connection would
  // miss its heartbeats). Every offer returns with the subscribers held up, and no subscriber
  // ever runs on an offering thread.
  std::mutex gate;
  gate.lock();
  std::mutex mutex;
  std::set<std::thread::id> delivering_threads;
  int delivered = 0;
  EventSequencer sequencer(
      [&](const Event&, EventSource) {
        std::lock_guard<std::mutex> wait(gate);
        std::lock_guard<std::mutex> lock(mutex);
        delivering_threads.insert(std::this_thread::get_id());
        ++delivered;
      },
      [] {}, {}, Poco::Logger::get("test"));
  sequencer.resynchronize([] { return LogPosition{}; });
  auto offers = std::async(std::launch::async, [&] {
    for (uint64_t seq = 1; seq <= 20; ++seq) {
      sequencer.offer(seq, eventNumber(seq), EventSource::kTransport);
    }
    return std::this_thread::get_id();
  });
  EXPECT_EQ(offers.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "an offer waited for the subscribers";
  gate.unlock();
  const std::thread::id offering = offers.get();
  sequencer.waitUntilSettled();
  std::lock_guard<std::mutex> lock(mutex);
  EXPECT_EQ(delivered, 20);
  EXPECT_EQ(delivering_threads.count(offering), 0u) << "a subscriber ran on the offering thread";
  EXPECT_EQ(delivering_threads.count(std::this_thread::get_id()), 0u);
}

TEST(EventSequencerTest, WaitForProgressWaitsWhileDeliveriesGoOnTowardTheSeq) {
  std::mutex gate;
  gate.lock();
  EventSequencer sequencer(
      [&](const Event&, EventSource) { std::lock_guard<std::mutex> wait(gate); }, [] {}, {},
      Poco::Logger::get("test"));
  sequencer.resynchronize([] { return LogPosition{}; });
  for (uint64_t seq = 1; seq <= 10; ++seq) {
    sequencer.offer(seq, eventNumber(seq), EventSource::kLog);
  }
  // Event 1 is in the subscribers, 2..10 wait behind it: 5 is not taken yet.
  EXPECT_FALSE(sequencer.waitForProgress(5, std::chrono::milliseconds(20)));
  gate.unlock();
  EXPECT_TRUE(sequencer.waitForProgress(5, std::chrono::seconds(10)));
  sequencer.waitUntilSettled();
  // Behind a gap nothing goes on: the wait ends at once, so that the reader goes on and fills it.
  sequencer.offer(12, eventNumber(12), EventSource::kTransport);
  EXPECT_TRUE(sequencer.waitForProgress(12, std::chrono::milliseconds(0)));
  EXPECT_EQ(sequencer.applied().seq, 10u);
}

}  // namespace
}  // namespace busbar::host

#include "busbar/delivery_queue.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <gtest/gtest.h>

namespace busbar {
namespace {

// Records what the queue delivers; deliver() can be held until released, and can throw.
class RecordingSink : public InboundSink {
 public:
  void deliver(const Event& event) override { record("deliver " + event.id, event); }
  void deliverSequenced(const Event& event, const EventLogSeq& at) override {
    record("sequenced " + event.id + " at " + std::to_string(at.seq), event);
  }
  // What the queue calls since SDK 1.6: the same, with " by <principal>" when there is one.
  void deliverAttributed(const Event& event, const std::string& principal) override {
    record("deliver " + event.id + by(principal), event);
  }
  void deliverSequencedAttributed(const Event& event, const EventLogSeq& at,
                                  const std::string& principal) override {
    record("sequenced " + event.id + " at " + std::to_string(at.seq) + by(principal), event);
  }
  void reconnected() override {
    std::lock_guard<std::mutex> lock(mutex_);
    calls_.push_back("reconnected");
    changed_.notify_all();
  }

  // Runs on the delivering thread with each event, after it is recorded.
  void onDeliver(std::function<void(const Event&)> callback) { on_deliver_ = std::move(callback); }

  // Holds every delivery from now on until release().
  void hold() {
    std::lock_guard<std::mutex> lock(mutex_);
    held_ = true;
  }
  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    held_ = false;
    changed_.notify_all();
  }
  // Waits until `count` calls were recorded; false after 10 s.
  bool waitFor(size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10),
                             [&] { return calls_.size() >= count; });
  }
  // Waits until a delivery is held; false after 10 s.
  bool waitUntilHolding() {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return holding_; });
  }
  std::vector<std::string> calls() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_;
  }

 private:
  static std::string by(const std::string& principal) {
    return principal.empty() ? "" : " by " + principal;
  }
  void record(const std::string& call, const Event& event) {
    std::unique_lock<std::mutex> lock(mutex_);
    holding_ = held_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !held_; });
    holding_ = false;
    calls_.push_back(call);
    changed_.notify_all();
    lock.unlock();
    if (on_deliver_) on_deliver_(event);
    if (event.type == "ThrowsAnInt") throw 42;
    if (event.type == "ThrowsAnError") throw std::runtime_error("subscriber broke");
  }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> calls_;
  std::function<void(const Event&)> on_deliver_;  // set before the queue starts
  bool held_ = false;
  bool holding_ = false;
};

// Keeps the text of what a logger logs.
class KeptLines : public Poco::Channel {
 public:
  void log(const Poco::Message& message) override {
    std::lock_guard<std::mutex> lock(mutex_);
    text_ += message.getText() + "\n";
  }
  std::string text() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return text_;
  }

 private:
  mutable std::mutex mutex_;
  std::string text_;
};

Event eventOf(const std::string& id, const std::string& type = "UserWasCreated") {
  Event event;
  event.id = id;
  event.type = type;
  return event;
}

class DeliveryQueueTest : public ::testing::Test {
 protected:
  DeliveryQueueTest() : lines_(new KeptLines), logger_(Poco::Logger::get("delivery_queue_test")) {
    logger_.setChannel(lines_);
    logger_.setLevel(Poco::Message::PRIO_INFORMATION);
  }

  // A settled callback that records its outcome in `outcomes`.
  PublishSettled settleInto(std::vector<bool>& outcomes) {
    return [this, &outcomes](bool confirmed) {
      std::lock_guard<std::mutex> lock(mutex_);
      outcomes.push_back(confirmed);
    };
  }
  std::vector<bool> outcomesOf(const std::vector<bool>& outcomes) {
    std::lock_guard<std::mutex> lock(mutex_);
    return outcomes;
  }

  RecordingSink sink_;
  Poco::AutoPtr<KeptLines> lines_;
  Poco::Logger& logger_;
  std::mutex mutex_;
};

TEST_F(DeliveryQueueTest, DeliversInOrderAndSettlesEachLoggedEventOnceDelivered) {
  std::vector<bool> outcomes;
  DeliveryQueue queue(sink_, logger_, "test", 16);
  queue.start();
  queue.push({"events", eventOf("a"), {}, {}});
  queue.push({"events", eventOf("b"), EventLogSeq{7, "log", ""}, settleInto(outcomes)});
  queue.push({"events", eventOf("c"), {}, {}});
  ASSERT_TRUE(sink_.waitFor(3));
  queue.stop();
  EXPECT_EQ(sink_.calls(),
            (std::vector<std::string>{"deliver a", "sequenced b at 7", "deliver c"}));
  EXPECT_EQ(outcomesOf(outcomes), std::vector<bool>{true});
}

TEST_F(DeliveryQueueTest, EachEventReachesTheSinkWithWhoCausedIt) {
  std::vector<bool> outcomes;
  DeliveryQueue queue(sink_, logger_, "test", 16);
  queue.start();
  queue.push({"events", eventOf("a"), {}, {}}, "alice");
  queue.push({"events", eventOf("b"), EventLogSeq{7, "log", ""}, settleInto(outcomes)}, "bob");
  ASSERT_TRUE(sink_.waitFor(2));
  queue.stop();
  EXPECT_EQ(sink_.calls(),
            (std::vector<std::string>{"deliver a by alice", "sequenced b at 7 by bob"}));
}

TEST_F(DeliveryQueueTest, AFullQueueDropsCountsSettlesUnconfirmedAndAsksForAResync) {
  std::vector<bool> outcomes;
  DeliveryQueue queue(sink_, logger_, "test", 1);
  queue.start();
  sink_.hold();
  queue.push({"events", eventOf("taken"), {}, {}});
  ASSERT_TRUE(sink_.waitUntilHolding());
  queue.push({"events", eventOf("waits"), {}, {}});  // the one place
  queue.push({"events", eventOf("logged"), EventLogSeq{3, "log", ""}, settleInto(outcomes)});
  queue.push({"events", eventOf("unlogged"), {}, {}});
  EXPECT_EQ(queue.dropped(), 2u);
  // The relay publishes a dropped logged event again; only the unlogged one needs a resync.
  EXPECT_EQ(outcomesOf(outcomes), std::vector<bool>{false});
  sink_.release();
  ASSERT_TRUE(sink_.waitFor(3));
  queue.stop();
  EXPECT_EQ(sink_.calls(),
            (std::vector<std::string>{"deliver taken", "reconnected", "deliver waits"}));
  EXPECT_NE(lines_->text().find("test transport queue full (1): dropped UserWasCreated logged (1 "
                                "so far); the relay hands it over again from the event log"),
            std::string::npos)
      << lines_->text();
  EXPECT_NE(lines_->text().find("dropped UserWasCreated unlogged (2 so far); subscribers resync"),
            std::string::npos)
      << lines_->text();
}

// Whatever a subscriber throws, std::exception or not, is logged and the next event is delivered;
// a logged event counts as delivered (the host retries and sets aside on its side).
TEST_F(DeliveryQueueTest, WhatASubscriberThrowsIsLoggedAndTheNextEventIsDelivered) {
  std::vector<bool> outcomes;
  DeliveryQueue queue(sink_, logger_, "test", 16);
  queue.start();
  queue.push(
      {"events", eventOf("i", "ThrowsAnInt"), EventLogSeq{1, "log", ""}, settleInto(outcomes)});
  queue.push({"events", eventOf("e", "ThrowsAnError"), {}, {}});
  queue.push({"events", eventOf("next"), {}, {}});
  ASSERT_TRUE(sink_.waitFor(3));
  queue.stop();
  EXPECT_EQ(sink_.calls(),
            (std::vector<std::string>{"sequenced i at 1", "deliver e", "deliver next"}));
  EXPECT_EQ(outcomesOf(outcomes), std::vector<bool>{true});
  EXPECT_NE(lines_->text().find("test transport: a subscriber failed on ThrowsAnInt i: an "
                                "exception that is not a std::exception"),
            std::string::npos)
      << lines_->text();
  EXPECT_NE(lines_->text().find("a subscriber failed on ThrowsAnError e: subscriber broke"),
            std::string::npos)
      << lines_->text();
}

TEST_F(DeliveryQueueTest, StopDeliversWhatIsQueuedAndLaterEventsAreSettledUnconfirmed) {
  std::vector<bool> outcomes;
  DeliveryQueue queue(sink_, logger_, "test", 16);
  queue.start();
  sink_.hold();
  queue.push({"events", eventOf("first"), {}, {}});
  ASSERT_TRUE(sink_.waitUntilHolding());
  queue.push({"events", eventOf("second"), {}, {}});
  auto stopped = std::async(std::launch::async, [&] { queue.stop(); });
  // stop() waits for the queued events, so it cannot return while one is held.
  EXPECT_EQ(stopped.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  sink_.release();
  stopped.get();
  queue.push({"events", eventOf("late"), EventLogSeq{9, "log", ""}, settleInto(outcomes)});
  EXPECT_EQ(sink_.calls(), (std::vector<std::string>{"deliver first", "deliver second"}));
  EXPECT_EQ(outcomesOf(outcomes), std::vector<bool>{false});
  EXPECT_EQ(queue.dropped(), 0u);
}

// A subscriber that stops the transport (on the delivery thread) neither deadlocks nor ends the
// process; what was queued is still delivered.
TEST_F(DeliveryQueueTest, StopFromTheDeliveryThreadReturnsAndTheQueueDrains) {
  DeliveryQueue queue(sink_, logger_, "test", 16);
  sink_.onDeliver([&](const Event& event) {
    if (event.id == "stops") queue.stop();
  });
  queue.start();
  sink_.hold();
  queue.push({"events", eventOf("stops"), {}, {}});
  ASSERT_TRUE(sink_.waitUntilHolding());
  queue.push({"events", eventOf("after"), {}, {}});
  sink_.release();
  ASSERT_TRUE(sink_.waitFor(2));
  queue.stop();
  EXPECT_EQ(sink_.calls(), (std::vector<std::string>{"deliver stops", "deliver after"}));
}

TEST_F(DeliveryQueueTest, BeforeDeliveryRunsFirstAndItsFailureDoesNotStopTheDelivery) {
  std::vector<std::string> written;
  DeliveryQueue queue(sink_, logger_, "test", 16, [&](const DeliveryQueue::Published& published) {
    written.push_back(published.exchange + " " + published.event.id);
    if (published.event.id == "unwritable") throw std::runtime_error("disk full");
  });
  queue.start();
  queue.push({"events", eventOf("unwritable"), {}, {}});
  queue.push({"audit", eventOf("fine"), {}, {}});
  ASSERT_TRUE(sink_.waitFor(2));
  queue.stop();
  EXPECT_EQ(written, (std::vector<std::string>{"events unwritable", "audit fine"}));
  EXPECT_EQ(sink_.calls(), (std::vector<std::string>{"deliver unwritable", "deliver fine"}));
  EXPECT_NE(lines_->text().find("test transport: writing UserWasCreated unwritable: disk full"),
            std::string::npos)
      << lines_->text();
}

}  // namespace
}  // namespace busbar

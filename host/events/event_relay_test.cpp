// The relay over a real SQLite database: what is unconfirmed after the delay is published again,
// by the lease holder only, and marked once a broker confirms it.
#include "events/event_relay.h"

#include <atomic>
#include <mutex>
#include <thread>

#include "events/sqlite_event_log_fixture.h"

namespace busbar::host {
namespace {

class RelayTest : public SqliteEventLogTest {
 protected:
  void SetUp() override {
    SqliteEventLogTest::SetUp();
    log_ = std::make_unique<EventLog>(*storage_);
  }

  std::unique_ptr<EventRelay> relay(const std::string& server, bool broker_confirms) {
    RelayOptions options;
    options.interval = std::chrono::milliseconds(20);
    options.delay = std::chrono::milliseconds(100);  // an unconfirmed event is an orphan soon
    return std::make_unique<EventRelay>(
        *log_, *storage_, tracker_,
        [this, server, broker_confirms](const LoggedEvent& logged, PublishSettled settled) {
          {
            std::lock_guard<std::mutex> lock(mutex_);
            republished_.push_back(server + ":" + logged.event.id);
          }
          if (broker_confirms) tracker_.published({logged.seq, logged.event.id});
          settled(broker_confirms);
        },
        server, options, Poco::Logger::get("test"));
  }

  std::vector<std::string> republished() {
    std::lock_guard<std::mutex> lock(mutex_);
    return republished_;
  }

  std::unique_ptr<EventLog> log_;
  PublicationTracker tracker_;
  std::mutex mutex_;
  std::vector<std::string> republished_;
};

TEST_F(RelayTest, WhatNoBrokerConfirmedIsPublishedAgainOnceAndMarked) {
  append({userEvent("confirmed"), userEvent("lost")});
  tracker_.published({1, "confirmed"});  // the writer's broker confirmed the first one
  auto a = relay("a", true);
  a->start();
  EXPECT_TRUE(eventually([&] { return log_->countUnpublished(0) == 0; }));
  EXPECT_EQ(republished(), std::vector<std::string>{"a:lost"});
  EXPECT_TRUE(a->figures().holds_lease);
}

TEST_F(RelayTest, OnlyTheLeaseHolderRelaysAndADeadHoldersWorkIsTakenOver) {
  auto a = relay("a", false);  // its broker never confirms: it keeps relaying after the delay
  auto b = relay("b", true);
  a->start();
  ASSERT_TRUE(eventually([&] { return a->figures().holds_lease; }));
  b->start();
  append({userEvent("e1")});
  EXPECT_TRUE(eventually([&] { return !republished().empty(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (const auto& entry : republished()) EXPECT_EQ(entry, "a:e1");
  EXPECT_FALSE(b->figures().holds_lease);
  a->stop();  // gives the lease up: b takes over at once, and its broker confirms
  EXPECT_TRUE(eventually([&] { return log_->countUnpublished(0) == 0; }));
  EXPECT_EQ(republished().back(), "b:e1");
}

}  // namespace
}  // namespace busbar::host

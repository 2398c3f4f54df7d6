// The follower over a real SQLite database: catch-up, gaps, and the resynchronizations that a
// restored, replaced or pruned log calls for.
#include "events/event_log_follower.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "busbar/errors.h"
#include "events/sqlite_event_log_fixture.h"

namespace busbar::host {
namespace {

class FollowerTest : public SqliteEventLogTest {
 protected:
  void SetUp() override { SqliteEventLogTest::SetUp(); }
  void TearDown() override {
    openGate();
    // Before the follower goes: the sequencer's thread reports gaps to it.
    sequencer_.close();
    if (follower_) follower_->stop();
    SqliteEventLogTest::TearDown();
  }

  // Starts a follower whose reloads are counted, after a preload at the log's head, and waits for
  // its first pass (which reads what the log holds past the preload: a test's events appended
  // before that pass would come from the log, not from the transport).
  void follow(std::chrono::milliseconds interval,
              std::chrono::milliseconds stale_after = std::chrono::seconds(5),
              size_t batch = 1000) {
    FollowerOptions options;
    options.interval = interval;
    options.batch = batch;
    options.stale_after = stale_after;
    options.retry_initial = std::chrono::milliseconds(10);
    follower_ = std::make_unique<EventLogFollower>(
        log_.get(), &sequencer_, &identity_,
        [this] {
          if (failing_reloads_ > 0) {
            --failing_reloads_;
            throw StorageUnavailable("the database went away during the reload");
          }
          ++reloads_;
        },
        options, Poco::Logger::get("test"));
    follower_->preload([] {});
    follower_->start();
    EXPECT_TRUE(eventually([&] { return follower_->figures().catch_ups >= 1; }));
  }

  // Waits for `passes` more whole passes of the follower.
  void waitPasses(uint64_t passes) {
    const uint64_t until = follower_->figures().catch_ups + passes;
    EXPECT_TRUE(eventually([&] { return follower_->figures().catch_ups >= until; }));
  }

  std::vector<std::string> delivered() {
    std::lock_guard<std::mutex> lock(mutex_);
    return delivered_;
  }

  // While the gate is closed, the subscriber holds the next delivery (a slow subscriber, a
  // backlog being applied).
  void closeGate() {
    std::lock_guard<std::mutex> lock(mutex_);
    gate_open_ = false;
  }
  void openGate() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      gate_open_ = true;
    }
    gate_.notify_all();
  }
  bool deliveryHeld() {
    std::lock_guard<std::mutex> lock(mutex_);
    return held_;
  }

  std::mutex mutex_;
  std::vector<std::string> delivered_;
  std::condition_variable gate_;
  bool gate_open_ = true;
  bool held_ = false;                    // a delivery waits at the closed gate
  std::atomic<int> reloads_{0};          // that succeeded
  std::atomic<int> failing_reloads_{0};  // the next ones fail
  std::atomic<std::chrono::milliseconds> delivery_time_{std::chrono::milliseconds(0)};
  LogIdentity identity_;
  EventSequencer sequencer_{[this](const Event& event, EventSource) {
                              std::this_thread::sleep_for(delivery_time_.load());
                              std::unique_lock<std::mutex> lock(mutex_);
                              held_ = !gate_open_;
                              gate_.wait(lock, [this] { return gate_open_; });
                              held_ = false;
                              delivered_.push_back(event.id);
                            },
                            [this] { follower_->requestCatchUp(); },
                            {},
                            Poco::Logger::get("test")};
  std::unique_ptr<EventLogFollower> follower_;
};

TEST_F(FollowerTest, APreloadStartsAtTheHeadAndCatchUpFindsALostLastEvent) {
  append({userEvent("before")});
  follow(std::chrono::milliseconds(50));
  EXPECT_EQ(sequencer_.applied().seq, 1u);  // the preload reflects it
  append({userEvent("lost-on-the-way")});   // no transport brings it: only the log has it
  EXPECT_TRUE(
      eventually([&] { return delivered() == std::vector<std::string>{"lost-on-the-way"}; }));
  EXPECT_EQ(follower_->figures().head_seq, 2u);
  EXPECT_EQ(sequencer_.counters().from_log, 1u);
}

TEST_F(FollowerTest, AfterTooLongWithoutACatchUpItRecoversUntilTheSequencerTookTheHead) {
  append({userEvent("one")});
  follow(std::chrono::milliseconds(20), std::chrono::milliseconds(500));
  EXPECT_TRUE(follower_->freshness().caught_up_at);  // the preload loaded the subscribers
  // Paused: no catch-up for longer than stale_after while the log moves on. Resumed, the broker's
  // backlog is being applied (its first event held by a slow subscriber) when the catch-ups read
  // the log past it.
  follower_->stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  closeGate();
  append({userEvent("two"), userEvent("three")});
  std::thread broker([this] { sequencer_.offer(2, userEvent("two"), EventSource::kTransport); });
  EXPECT_TRUE(eventually([&] { return deliveryHeld(); }));
  follower_->start();
  waitPasses(3);  // each read the head (3) and offered three, which waits behind two
  EXPECT_EQ(follower_->freshness().recovering_to, std::optional<uint64_t>(3));
  openGate();
  broker.join();
  sequencer_.waitUntilSettled();
  EXPECT_EQ(delivered(), (std::vector<std::string>{"two", "three"}));
  EXPECT_EQ(follower_->freshness().recovering_to, std::nullopt);
}

TEST_F(FollowerTest, ASlowSubscriberWhileCatchUpsGoOnIsNotRecovering) {
  // Applying slower than the cluster writes is not a pause: the catch-ups never stopped.
  append({userEvent("one")});
  follow(std::chrono::milliseconds(20), std::chrono::milliseconds(500));
  closeGate();
  append({userEvent("two"), userEvent("three")});
  std::thread broker([this] { sequencer_.offer(2, userEvent("two"), EventSource::kTransport); });
  EXPECT_TRUE(eventually([&] { return deliveryHeld(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // longer than stale_after
  EXPECT_EQ(follower_->freshness().recovering_to, std::nullopt);
  openGate();
  broker.join();
}

TEST_F(FollowerTest, ABacklogIsReadAtThePaceItIsAppliedNotIntoMemory) {
  // A server back from a long pause, or a subscriber slower than the writes: the catch-up reads
  // no more than a batch ahead of what the subscribers took.
  constexpr size_t kBatch = 5;
  follow(std::chrono::hours(1), std::chrono::seconds(5), kBatch);
  follower_->stop();
  for (int i = 1; i <= 60; ++i) append({userEvent("e" + std::to_string(i))});
  closeGate();
  follower_->start();  // its first pass reads the log
  EXPECT_TRUE(eventually([&] { return deliveryHeld(); }));
  EXPECT_TRUE(eventually([&] { return sequencer_.counters().waiting >= kBatch; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // time to run ahead, if it would
  EXPECT_LE(sequencer_.counters().waiting, 2 * kBatch);
  openGate();
  EXPECT_TRUE(eventually([&] { return delivered().size() == 60; }));
  EXPECT_EQ(delivered().back(), "e60");
}

TEST_F(FollowerTest, ASlowServerMoreThanABatchBehindStaysFreshWhileItApplies) {
  // Each event takes 20 ms; 150 are behind, 30 batches: the catch-up waits for the subscribers
  // three times stale_after, and they go on taking events all along. Neither stale nor recovering.
  constexpr auto kStaleAfter = std::chrono::seconds(1);
  constexpr size_t kBehind = 150;
  follow(std::chrono::milliseconds(20), kStaleAfter, 5);
  delivery_time_ = std::chrono::milliseconds(20);
  for (size_t i = 1; i <= kBehind; ++i) append({userEvent("e" + std::to_string(i))});
  int samples = 0;
  while (delivered().size() < kBehind - 5 && samples < 1000) {
    auto freshness = follower_->freshness();
    ASSERT_TRUE(freshness.caught_up_at);
    EXPECT_LT(std::chrono::steady_clock::now() - *freshness.caught_up_at, kStaleAfter)
        << "after " << delivered().size() << " of " << kBehind << " applied";
    EXPECT_EQ(freshness.recovering_to, std::nullopt);
    ++samples;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GT(samples, 20);
  EXPECT_TRUE(eventually([&] { return delivered().size() == kBehind; }));
}

TEST_F(FollowerTest, AGapIsFilledFromTheLogWithoutWaitingForTheInterval) {
  follow(std::chrono::hours(1));
  append({userEvent("one"), userEvent("two"), userEvent("three")});
  sequencer_.offer(3, userEvent("three"), EventSource::kTransport);  // 1 and 2 were lost
  EXPECT_TRUE(eventually([&] { return delivered().size() == 3; }));
  EXPECT_EQ(delivered(), (std::vector<std::string>{"one", "two", "three"}));
}

TEST_F(FollowerTest, AGapFillReadsPastTheGapSoThatTheGapsBehindItFillAtOnce) {
  // A server whose link to the broker is cut: each of its events leaves a gap of its own among
  // those that do arrive. One read fills them all, and what comes after them too.
  follow(std::chrono::hours(1));
  append({userEvent("cut-1"), userEvent("two"), userEvent("cut-3"), userEvent("four"),
          userEvent("cut-5")});
  sequencer_.offer(2, userEvent("two"), EventSource::kTransport);
  sequencer_.offer(4, userEvent("four"), EventSource::kTransport);
  EXPECT_TRUE(eventually([&] { return delivered().size() == 5; }));
  EXPECT_EQ(delivered(), (std::vector<std::string>{"cut-1", "two", "cut-3", "four", "cut-5"}));
  EXPECT_EQ(sequencer_.counters().from_log, 3u);
}

TEST_F(FollowerTest, ADatabaseRestoredFromAnOlderDumpResynchronizes) {
  append({userEvent("a"), userEvent("b"), userEvent("c")});
  follow(std::chrono::milliseconds(50));
  EXPECT_EQ(sequencer_.applied().seq, 3u);
  // The dump held seq 1 only; then another event was written: seq 2 and 3 are other events now.
  storage_->execute("DELETE FROM busbar_events WHERE seq > 1");
  storage_->execute("UPDATE busbar_event_head SET seq = 1");
  append({userEvent("after-restore-1"), userEvent("after-restore-2"), userEvent("x")});
  EXPECT_TRUE(eventually([&] { return reloads_ == 2; }));  // and once more, a pass later
  EXPECT_TRUE(eventually([&] { return sequencer_.applied().seq == 4; }));
  EXPECT_EQ(sequencer_.applied().event_id, "x");
}

TEST_F(FollowerTest, ALogThatWentBackResynchronizesAndOnceMoreForTablesStillFilling) {
  storage_->execute("CREATE TABLE module_rows (id TEXT PRIMARY KEY)");
  append({userEvent("a"), userEvent("b")});
  follow(std::chrono::milliseconds(50));
  storage_->execute("DELETE FROM busbar_events");
  storage_->execute("UPDATE busbar_event_head SET seq = 0");
  EXPECT_TRUE(eventually([&] { return reloads_ >= 1 && sequencer_.applied().seq == 0; }));
  // A restore fills a module table after the log's: the reload a pass later reads its rows.
  storage_->execute("INSERT INTO module_rows VALUES ('restored')");
  EXPECT_TRUE(eventually([&] { return reloads_ == 2; }));
  waitPasses(3);
  EXPECT_EQ(reloads_, 2);
}

TEST_F(FollowerTest, AnotherDatabaseResynchronizes) {
  follow(std::chrono::milliseconds(50));
  storage_->execute("UPDATE busbar_event_head SET log_id = '00000000-0000-4000-8000-000000000000'");
  EXPECT_TRUE(eventually([&] { return reloads_ == 2; }));  // and once more, a pass later
  EXPECT_EQ(identity_.get(), "00000000-0000-4000-8000-000000000000");
}

TEST_F(FollowerTest, AModuleTableMadeAgainLongAfterTheLogWasRestoredIsReloadedTwice) {
  storage_->execute("CREATE TABLE module_rows (id TEXT PRIMARY KEY)");
  follow(std::chrono::milliseconds(20));
  waitPasses(3);
  EXPECT_EQ(reloads_, 0);
  // The restore's last table, however late: made again empty, then filled. In one transaction:
  // a pass that saw the table dropped, then one that saw it made again, would reload for each.
  storage_->transaction([](Connection& restore) {
    restore.execute("DROP TABLE module_rows");
    restore.execute("CREATE TABLE module_rows (id TEXT PRIMARY KEY)");
    restore.execute("INSERT INTO module_rows VALUES ('restored')");
  });
  EXPECT_TRUE(eventually([&] { return reloads_ == 2; }));
  waitPasses(3);
  EXPECT_EQ(reloads_, 2);  // once it was seen, and once more; then no more
  // Rows written as usual change no table's identity.
  append({userEvent("a")});
  storage_->execute("INSERT INTO module_rows VALUES ('written')");
  waitPasses(3);
  EXPECT_EQ(reloads_, 2);
}

TEST_F(FollowerTest, AReloadForATableMadeAgainIsTriedUntilItSucceeds) {
  storage_->execute("CREATE TABLE module_rows (id TEXT PRIMARY KEY)");
  follow(std::chrono::milliseconds(20));
  waitPasses(1);
  failing_reloads_ = 3;
  storage_->transaction([](Connection& restore) {
    restore.execute("DROP TABLE module_rows");
    restore.execute("CREATE TABLE module_rows (id TEXT PRIMARY KEY)");
  });
  EXPECT_TRUE(eventually([&] { return reloads_ == 2; }));
  EXPECT_EQ(failing_reloads_, 0);
  EXPECT_GE(follower_->figures().failures, 3u);
  waitPasses(3);
  EXPECT_EQ(reloads_, 2);
}

TEST_F(FollowerTest, ALogPrunedPastThisServerResynchronizes) {
  follow(std::chrono::hours(1));
  follower_->stop();  // this server is away while the log moves on and is pruned
  for (int i = 0; i < 5; ++i) append({userEvent("e" + std::to_string(i))});
  storage_->execute("DELETE FROM busbar_events WHERE seq < 4");
  follower_->start();
  EXPECT_TRUE(eventually([&] { return reloads_ == 1; }));
  EXPECT_TRUE(eventually([&] { return sequencer_.applied().seq == 5; }));
}

}  // namespace
}  // namespace busbar::host

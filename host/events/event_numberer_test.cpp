// The numberer over a real SQLite database: committed events are handed on numbered, in order,
// once each; what queues while a round runs goes out in the next round; past its capacity events
// are left to the log and numbered by a sweep; what another writer left is numbered too; a
// backlog larger than a batch drains; a failed round is tried again; stop() numbers what is
// queued.
#include "events/event_numberer.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "events/outbox_connection.h"
#include "events/sqlite_event_log_fixture.h"

namespace busbar::host {
namespace {

// Records what the numberer hands on, batch by batch; while held, the numberer's thread waits
// inside publishCommitted, as it would behind a slow transport.
class RecordingSink : public CommittedEvents {
 public:
  void publishCommitted(std::vector<LoggedEvent2> events) noexcept override {
    std::unique_lock<std::mutex> lock(mutex_);
    batches_.push_back(std::move(events));
    changed_.notify_all();
    changed_.wait(lock, [this] { return !held_; });
  }

  void hold() {
    std::lock_guard<std::mutex> lock(mutex_);
    held_ = true;
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      held_ = false;
    }
    changed_.notify_all();
  }

  // Waits up to 5 s for `count` batches; returns the batches so far.
  std::vector<std::vector<LoggedEvent2>> awaitBatches(size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(5), [&] { return batches_.size() >= count; });
    return batches_;
  }

  std::vector<LoggedEvent2> handed() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<LoggedEvent2> all;
    for (const auto& batch : batches_) all.insert(all.end(), batch.begin(), batch.end());
    return all;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::vector<LoggedEvent2>> batches_;
  bool held_ = false;
};

class EventNumbererTest : public SqliteEventLogTest {
 protected:
  void SetUp() override { SqliteEventLogTest::SetUp(); }

  std::unique_ptr<EventNumberer> numberer(
      size_t capacity = 100000,
      std::chrono::milliseconds sweep_interval = std::chrono::milliseconds(60000)) {
    auto made = std::make_unique<EventNumberer>(*log_, sink_, Poco::Logger::get("test"), capacity,
                                                sweep_interval);
    made->start();
    return made;
  }

  // Commits `ids` unnumbered, as a writer on MariaDB or PostgreSQL does.
  void commit(const std::vector<std::string>& ids) {
    std::vector<Event> events;
    for (const auto& id : ids) events.push_back(userEvent(id));
    storage_->transaction([&](Connection& tx) {
      log_->append2(tx, unnumbered(events), Poco::Timestamp().epochMicroseconds());
    });
  }

  // Commits `ids` unnumbered and submits them, as the outbox does.
  void commitAndSubmit(EventNumberer& numberer, const std::vector<std::string>& ids) {
    commit(ids);
    std::vector<Event> events;
    for (const auto& id : ids) events.push_back(userEvent(id));
    numberer.submit(unnumbered(events));
  }

  static std::vector<std::string> idsOf(const std::vector<LoggedEvent2>& events) {
    std::vector<std::string> ids;
    for (const auto& logged : events) ids.push_back(logged.event.id);
    return ids;
  }

  RecordingSink sink_;
};

TEST_F(EventNumbererTest, WritersAtOnceGetEveryEventHandedOnOnceInNumberOrder) {
  auto numbering = numberer();
  constexpr int kWriters = 4;
  constexpr int kEach = 50;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kEach; ++i) {
        commitAndSubmit(*numbering, {"w" + std::to_string(w) + "-" + std::to_string(i)});
      }
    });
  }
  for (auto& writer : writers) writer.join();
  ASSERT_TRUE(eventually([&] { return sink_.handed().size() >= kWriters * kEach; }));

  auto handed = sink_.handed();
  ASSERT_EQ(handed.size(), static_cast<size_t>(kWriters * kEach));
  auto in_log = log_->numbersOf(idsOf(handed));
  std::set<std::string> seen;
  std::set<uint64_t> numbers;
  for (const auto& logged : handed) {
    EXPECT_EQ(in_log.at(logged.event.id), logged.seq) << "the log holds another number";
    EXPECT_TRUE(seen.insert(logged.event.id).second) << logged.event.id << " twice";
    EXPECT_TRUE(numbers.insert(logged.seq).second) << logged.seq << " given twice";
  }
  // 1..200: none skipped. A batch is in number order; a writer's event that a round numbered
  // between its commit and its submit goes out in a later batch (the sequencers order them).
  EXPECT_EQ(*numbers.begin(), 1u);
  EXPECT_EQ(*numbers.rbegin(), static_cast<uint64_t>(kWriters * kEach));
  for (const auto& batch : sink_.awaitBatches(0)) {
    EXPECT_TRUE(
        std::is_sorted(batch.begin(), batch.end(),
                       [](const LoggedEvent2& a, const LoggedEvent2& b) { return a.seq < b.seq; }));
  }
  EXPECT_EQ(log_->head().seq, static_cast<uint64_t>(kWriters * kEach));
  EXPECT_LE(numbering->rounds(), static_cast<uint64_t>(kWriters * kEach));
}

TEST_F(EventNumbererTest, WhatIsSubmittedDuringARoundIsNumberedInTheNextOneTogether) {
  auto numbering = numberer();
  sink_.hold();
  commitAndSubmit(*numbering, {"first"});
  ASSERT_EQ(sink_.awaitBatches(1).size(), 1u);  // the worker waits in the sink, its round done
  std::vector<std::string> later;
  for (int i = 0; i < 20; ++i) later.push_back("later-" + std::to_string(i));
  for (const auto& id : later) commitAndSubmit(*numbering, {id});
  sink_.release();

  auto batches = sink_.awaitBatches(2);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(idsOf(batches[1]), later);  // one round for all 20, in the order they were logged
  EXPECT_EQ(batches[1].front().seq, 2u);
  EXPECT_EQ(batches[1].back().seq, 21u);
  // Counted once the hand-off returns.
  EXPECT_TRUE(eventually([&] { return numbering->rounds() == 2; })) << numbering->rounds();
}

TEST_F(EventNumbererTest, PastItsCapacityEventsAreLeftToTheLogUnnumbered) {
  auto numbering = numberer(5);
  sink_.hold();
  commitAndSubmit(*numbering, {"first"});
  ASSERT_EQ(sink_.awaitBatches(1).size(), 1u);
  commitAndSubmit(*numbering, {"q1", "q2", "q3", "q4", "q5"});  // fills the queue
  commitAndSubmit(*numbering, {"over"});
  EXPECT_EQ(numbering->leftToTheLog(), 1u);
  sink_.release();

  ASSERT_EQ(sink_.awaitBatches(2).size(), 2u);
  EXPECT_EQ(idsOf(sink_.handed()),
            (std::vector<std::string>{"first", "q1", "q2", "q3", "q4", "q5"}));
  // Left to the log: the next numbering of any server numbers it with the rest, but this server
  // does not hand it on (every server reads it from the log).
  EXPECT_EQ(log_->numbersOf({"over"}), (EventLogStorage::Numbers{{"over", 7}}));
  EXPECT_FALSE(log_->hasUnnumbered(std::chrono::microseconds(0)));
}

TEST_F(EventNumbererTest, ASweepNumbersWhatAWriterLeftWithoutWaitingForIt) {
  // A writer that froze or died between its commit and its numbering: nobody submits its events.
  commit({"frozen-1", "frozen-2"});
  auto numbering = numberer(100000, std::chrono::milliseconds(20));
  ASSERT_TRUE(eventually([&] { return log_->numbersOf({"frozen-1", "frozen-2"}).size() == 2; }));
  EXPECT_EQ(log_->numbersOf({"frozen-1", "frozen-2"}),
            (EventLogStorage::Numbers{{"frozen-1", 1}, {"frozen-2", 2}}));
  EXPECT_FALSE(log_->hasUnnumbered(std::chrono::microseconds(0)));
  EXPECT_TRUE(sink_.handed().empty());  // not this server's to publish: the log has them
}

TEST_F(EventNumbererTest, ARoundNumbersOlderEventsOfOtherWritersBeforeItsOwn) {
  // Another writer committed version 1 of a key and stalled; this server's write of version 2
  // committed after it. The numbers follow the commits, so every subscriber gets 1 before 2.
  commit({"other-v1"});
  auto numbering = numberer();
  commitAndSubmit(*numbering, {"mine-v2"});
  ASSERT_TRUE(eventually([&] { return sink_.handed().size() == 1; }));
  EXPECT_EQ(log_->numbersOf({"other-v1", "mine-v2"}),
            (EventLogStorage::Numbers{{"other-v1", 1}, {"mine-v2", 2}}));
  EXPECT_EQ(sink_.handed()[0].seq, 2u);
}

TEST_F(EventNumbererTest, AnEventNumberedBeforeItsWriterSubmittedItGoesOutInALaterBatch) {
  // A writer between its commit and its submit: this server's round numbers its event with the
  // rest, but only the writer's submit hands it on, after the higher number of a later write.
  commit({"committed-first"});
  auto numbering = numberer();
  commitAndSubmit(*numbering, {"submitted-first"});
  ASSERT_EQ(sink_.awaitBatches(1).size(), 1u);
  std::vector<Event> late{userEvent("committed-first")};
  numbering->submit(unnumbered(late));

  auto batches = sink_.awaitBatches(2);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(idsOf(batches[0]), (std::vector<std::string>{"submitted-first"}));
  EXPECT_EQ(batches[0][0].seq, 2u);
  EXPECT_EQ(idsOf(batches[1]), (std::vector<std::string>{"committed-first"}));
  EXPECT_EQ(batches[1][0].seq, 1u);  // the number the earlier round gave it, not a new one
  EXPECT_EQ(log_->head().seq, 2u);
}

TEST_F(EventNumbererTest, ABacklogOfManyBatchesDrainsAndItsOwnEventsGoOutAfterIt) {
  std::vector<std::string> left;
  for (size_t i = 0; i < sqlite::SqliteEventLog::kNumberingBatch * 3; ++i)
    left.push_back("left-" + std::to_string(i));
  commit(left);
  auto numbering = numberer();
  std::vector<std::string> mine;
  for (int i = 0; i < 40; ++i) mine.push_back("mine-" + std::to_string(i));
  commitAndSubmit(*numbering, mine);
  ASSERT_TRUE(eventually([&] { return sink_.handed().size() == mine.size(); }));
  EXPECT_EQ(idsOf(sink_.handed()), mine);
  EXPECT_EQ(sink_.handed().front().seq, sqlite::SqliteEventLog::kNumberingBatch * 3 + 1);
  EXPECT_FALSE(log_->hasUnnumbered(std::chrono::microseconds(0)));
}

TEST_F(EventNumbererTest, AnEventNumberedMeanwhileIsHandedOnWithThatNumber) {
  auto numbering = numberer();
  sink_.hold();
  commitAndSubmit(*numbering, {"first"});
  ASSERT_EQ(sink_.awaitBatches(1).size(), 1u);
  commitAndSubmit(*numbering, {"taken"});
  // Another server's numbering numbers it (every waiting event) before this one's next round.
  auto elsewhere = log_->numberOldest();
  ASSERT_EQ(elsewhere.numbers.at("taken"), 2u);
  sink_.release();

  ASSERT_EQ(sink_.awaitBatches(2).size(), 2u);
  auto handed = sink_.handed();
  ASSERT_EQ(handed.size(), 2u);
  EXPECT_EQ(handed[1].event.id, "taken");
  EXPECT_EQ(handed[1].seq, 2u);  // not numbered a second time
  EXPECT_EQ(log_->head().seq, 2u);
}

TEST_F(EventNumbererTest, ARoundThatFailsIsTriedAgainUntilTheDatabaseAnswers) {
  auto numbering = numberer();
  storage_->execute("ALTER TABLE busbar_event_head RENAME TO busbar_event_head_away");
  commitAndSubmit(*numbering, {"a", "b"});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // a few failed rounds
  EXPECT_TRUE(sink_.handed().empty());
  EXPECT_EQ(numbering->rounds(), 0u);
  storage_->execute("ALTER TABLE busbar_event_head_away RENAME TO busbar_event_head");

  ASSERT_TRUE(eventually([&] { return sink_.handed().size() == 2; }));
  auto handed = sink_.handed();
  EXPECT_EQ(idsOf(handed), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(handed[0].seq, 1u);
  EXPECT_EQ(handed[1].seq, 2u);
  EXPECT_TRUE(eventually([&] { return numbering->rounds() == 1; })) << numbering->rounds();
}

TEST_F(EventNumbererTest, StopNumbersAndHandsOnWhatIsQueued) {
  auto numbering = numberer();
  sink_.hold();
  commitAndSubmit(*numbering, {"first"});
  ASSERT_EQ(sink_.awaitBatches(1).size(), 1u);
  commitAndSubmit(*numbering, {"queued-1", "queued-2"});
  std::thread stopper([&] { numbering->stop(); });  // waits for the worker, held in the sink
  sink_.release();
  stopper.join();

  EXPECT_EQ(idsOf(sink_.handed()), (std::vector<std::string>{"first", "queued-1", "queued-2"}));
  EXPECT_TRUE(log_->numbersOf({"queued-2"}).count("queued-2"));
  commitAndSubmit(*numbering, {"after-stop"});  // queued, never numbered by a stopped numberer
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(sink_.handed().size(), 3u);
}

}  // namespace
}  // namespace busbar::host

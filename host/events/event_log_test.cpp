// The event log over a real SQLite database (SqliteEventLog, SqlEventLog's statements), the host's
// relay lease and its settling of ambiguous commits over it. Every backend's concurrency is proven
// by busbar-conformance event-log (conformance/event_log_contract.cpp).
#include "events/commit_settler.h"
#include "events/relay_lease.h"
#include "events/sqlite_event_log_fixture.h"

namespace busbar::host {
namespace {

using EventLogTest = SqliteEventLogTest;

TEST_F(EventLogTest, AppendTakesConsecutiveNumbersAndReadAfterReturnsThemInOrder) {
  EventLogStorage2& log = *log_;
  EXPECT_EQ(log.head().seq, 0u);
  EXPECT_EQ(log.head().log_id.size(), 36u);
  EXPECT_EQ(append({userEvent("a")}), 1u);
  EXPECT_EQ(append({userEvent("b"), userEvent("c", 2)}), 2u);
  EXPECT_EQ(log.head().seq, 3u);
  EXPECT_EQ(log.eventIdAt(3), std::optional<std::string>("c"));
  auto events = log.readAfter(1, 10);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].seq, 2u);
  EXPECT_EQ(events[0].event.id, "b");
  EXPECT_EQ(events[1].event.version, 2);
  EXPECT_EQ(events[1].event.origin, "test:1");
  EXPECT_EQ(events[1].event.payload->getValue<std::string>("id"), "u1");
  EXPECT_EQ(log.readAfter(0, 2).size(), 2u);
  EXPECT_EQ(log.eventIdAt(2), std::optional<std::string>("b"));
  EXPECT_FALSE(log.eventIdAt(9));
}

TEST_F(EventLogTest, ARolledBackAppendLeavesNoNumberTaken) {
  EventLogStorage2& log = *log_;
  append({userEvent("a")});
  EXPECT_THROW(storage_->transaction([&](Connection& tx) {
    log.append2(tx, unnumbered({userEvent("lost")}), 0);
    sqlite::SqliteEventLog::numberPending(tx);
    throw std::runtime_error("the module's work failed after all");
  }),
               std::runtime_error);
  EXPECT_EQ(append({userEvent("b")}), 2u);  // no hole
}

TEST_F(EventLogTest, PublishedMarksAndTheUnpublishedBacklog) {
  EventLogStorage2& log = *log_;
  append({userEvent("a"), userEvent("b"), userEvent("c")}, 1000);
  append({userEvent("young")}, 5000);
  log.mark({"a", "c"}, EventLogStorage::Publication::kConfirmed);
  EXPECT_EQ(log.countUnpublished(0), 2u);
  auto old = log.unpublished2(0, 2000, 10);
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].event.id, "b");
  EXPECT_EQ(log.unpublished2(0, 9000, 10).size(), 2u);
  EXPECT_EQ(log.unpublished2(2, 9000, 10).size(), 1u);
  // Given up by its publisher: the relay's at once, however young; a later confirm wins.
  log.mark({"young"}, EventLogStorage::Publication::kGivenUp);
  EXPECT_EQ(log.unpublished2(3, 2000, 10).size(), 1u);
  log.mark({"young"}, EventLogStorage::Publication::kConfirmed);
  log.mark({"young"}, EventLogStorage::Publication::kGivenUp);
  EXPECT_EQ(log.countUnpublished(0), 1u);
}

TEST_F(EventLogTest, TheRelaysLookTakesTheLowestOfGivenUpAndOrphanedEventsUpToItsLimit) {
  EventLogStorage2& log = *log_;
  // seq 1..8, logged at 1000..1007: confirmed, given up and orphaned in turn, one still young.
  append({userEvent("confirmed-1"), userEvent("given-up-2"), userEvent("orphan-3"),
          userEvent("given-up-4"), userEvent("orphan-5"), userEvent("given-up-6"),
          userEvent("orphan-7"), userEvent("young-8")},
         1000);
  log.mark({"confirmed-1"}, EventLogStorage::Publication::kConfirmed);
  log.mark({"given-up-2", "given-up-4", "given-up-6"}, EventLogStorage::Publication::kGivenUp);
  auto idsOf = [](const std::vector<LoggedEvent2>& events) {
    std::vector<std::string> ids;
    for (const auto& logged : events) ids.push_back(logged.event.id);
    return ids;
  };
  // Orphaned: logged before 1007 and not confirmed.
  EXPECT_EQ(idsOf(log.unpublished2(0, 1007, 4)),
            (std::vector<std::string>{"given-up-2", "orphan-3", "given-up-4", "orphan-5"}));
  EXPECT_EQ(idsOf(log.unpublished2(4, 1007, 10)),
            (std::vector<std::string>{"orphan-5", "given-up-6", "orphan-7"}));
  EXPECT_EQ(log.unpublished2(0, 1007, 10).size(), 6u);
  EXPECT_EQ(log.countUnpublished(0), 7u);  // the young one too
  EXPECT_EQ(log.countUnpublished(5), 3u);
}

TEST_F(EventLogTest, PruneKeepsTheNewestByCountAndAgeButNeverAnUnconfirmedEventNorAHole) {
  EventLogStorage2& log = *log_;
  const int64_t now = 100LL * 24 * 3600 * 1000000;
  const int64_t day = 24LL * 3600 * 1000000;
  for (int i = 1; i <= 10; ++i) append({userEvent("e" + std::to_string(i))}, now - (11 - i) * day);
  std::vector<std::string> all;
  for (uint64_t seq = 1; seq <= 10; ++seq) all.push_back("e" + std::to_string(seq));
  log.mark(all, EventLogStorage::Publication::kConfirmed);
  LogRetention retention;
  retention.events = 8;               // keeps 3..10
  retention.seconds = 5 * 24 * 3600;  // keeps those logged within 5 days: 6..10
  EXPECT_EQ(log.prune(retention, now), 5u);
  EXPECT_EQ(log.oldest(), std::optional<uint64_t>(6));

  append({userEvent("e11")}, now);  // not confirmed by any broker
  append({userEvent("e12")}, now);
  log.mark({"e12"}, EventLogStorage::Publication::kConfirmed);
  retention.events = 1;
  EXPECT_EQ(log.prune(retention, now), 5u);  // down to the unconfirmed 11, not past it
  EXPECT_EQ(log.oldest(), std::optional<uint64_t>(11));
}

TEST_F(EventLogTest, TheLeaseHasOneHolderAndPassesOnWhenTheHolderFallsSilent) {
  using namespace std::chrono_literals;
  RelayLease a(*log_, "a", 5s);
  RelayLease b(*log_, "b", 5s);
  auto t0 = RelayLease::Clock::now();
  EXPECT_TRUE(a.hold(t0));
  EXPECT_FALSE(b.hold(t0));
  EXPECT_EQ(b.lastSeenHolder(), "a");
  EXPECT_TRUE(a.hold(t0 + 1s));    // renewed: the beat moved
  EXPECT_FALSE(b.hold(t0 + 4s));   // b saw a new beat at 4 s
  EXPECT_FALSE(b.hold(t0 + 8s));   // silent for 4 s only
  EXPECT_TRUE(b.hold(t0 + 10s));   // silent for 6 s: a is taken over
  EXPECT_FALSE(a.hold(t0 + 10s));  // a finds b there and backs off
  b.release();
  EXPECT_TRUE(a.hold(t0 + 11s));  // released: no wait
}

TEST_F(EventLogTest, AnAmbiguousCommitIsSettledFromTheLog) {
  EventLogStorage2& log = *log_;
  SettleOptions options;
  options.deadline = std::chrono::milliseconds(500);
  std::string detail;
  append({userEvent("mine")});
  EXPECT_EQ(settleCommit(log, "mine", options, detail), CommitOutcome::kCommitted) << detail;
  EXPECT_EQ(settleCommit(log, "rolled-back", options, detail), CommitOutcome::kNotCommitted);
  EXPECT_NE(detail.find("no open transaction holds it"), std::string::npos) << detail;
  EXPECT_FALSE(log.contains("rolled-back"));  // the settling's own probe left nothing
}

TEST_F(EventLogTest, NumberingGivesTheOldestWaitingEventsTheirNumbersWhoeverLoggedThem) {
  EventLogStorage2& log = *log_;
  EXPECT_EQ(log.numbering(), EventLogStorage::Numbering::kByWriter);  // SQLite
  EXPECT_FALSE(log.hasUnnumbered(std::chrono::microseconds(0)));
  storage_->transaction([&](Connection& tx) {
    log.append2(tx, unnumbered({userEvent("p1"), userEvent("p2")}), 10);
  });
  storage_->transaction([&](Connection& tx) { log.append2(tx, unnumbered({userEvent("p3")}), 5); });
  EXPECT_TRUE(log.hasUnnumbered(std::chrono::microseconds(0)));
  EXPECT_TRUE(log.readAfter(0, 10).empty());  // readers see numbered events only
  // Every waiting event, in the order they were logged, whichever writer logged them.
  auto first = log.numberOldest();
  EXPECT_EQ(first.numbers, (EventLogStorage::Numbers{{"p3", 1}, {"p1", 2}, {"p2", 3}}));
  EXPECT_FALSE(first.more);
  EXPECT_FALSE(log.hasUnnumbered(std::chrono::microseconds(0)));
  EXPECT_TRUE(log.numberOldest().numbers.empty());  // none is numbered twice
  storage_->transaction(
      [&](Connection& tx) { log.append2(tx, unnumbered({userEvent("left")}), 1); });
  EXPECT_EQ(log.numberOldest().numbers, (EventLogStorage::Numbers{{"left", 4}}));
  EXPECT_EQ(log.head().seq, 4u);
  EXPECT_EQ(log.readAfter(0, 10).size(), 4u);
  EXPECT_EQ(log.numbersOf({"p1", "left", "never"}),
            (EventLogStorage::Numbers{{"p1", 2}, {"left", 4}}));
}

TEST_F(EventLogTest, ABacklogLargerThanABatchDrainsBatchByBatchOldestFirst) {
  EventLogStorage2& log = *log_;
  const size_t total = sqlite::SqliteEventLog::kNumberingBatch * 2 + 7;
  std::vector<Event> events;
  std::vector<std::string> ids;
  for (size_t i = 0; i < total; ++i) {
    ids.push_back("b" + std::to_string(i));
    events.push_back(userEvent(ids.back()));
  }
  storage_->transaction([&](Connection& tx) { log.append2(tx, unnumbered(events), 1000); });
  std::vector<size_t> rounds;
  for (bool more = true; more;) {
    auto numbering = log.numberOldest();
    rounds.push_back(numbering.numbers.size());
    more = numbering.more;
    ASSERT_LE(rounds.size(), 4u) << "the backlog does not drain";
  }
  EXPECT_EQ(rounds, (std::vector<size_t>{sqlite::SqliteEventLog::kNumberingBatch,
                                         sqlite::SqliteEventLog::kNumberingBatch, 7}));
  // Numbers of more ids than one statement takes are read in pieces.
  auto numbers = log.numbersOf(ids);
  ASSERT_EQ(numbers.size(), total);
  for (size_t i = 0; i < total; ++i) EXPECT_EQ(numbers.at(ids[i]), i + 1) << ids[i];
}

TEST_F(EventLogTest, AnUnreachableLogLeavesTheOutcomeUnknown) {
  EventLogStorage2& log = *log_;
  storage_->execute("DROP TABLE busbar_events");  // every read of the log fails now
  SettleOptions options;
  options.deadline = std::chrono::milliseconds(200);
  options.retry_initial = std::chrono::milliseconds(20);
  std::string detail;
  EXPECT_EQ(settleCommit(log, "mine", options, detail), CommitOutcome::kUnknown);
  EXPECT_NE(detail.find("busbar_events"), std::string::npos) << detail;
}

}  // namespace
}  // namespace busbar::host

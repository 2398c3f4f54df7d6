// SqlEventLog's compare-and-set numbering (plugins/sqlcommon) on the server backends: what a
// numbering frozen between its read and its statement finds when it resumes. The contract every
// event log storage keeps is busbar-conformance's (conformance/event_log_contract.cpp). Each test
// has a database of its own: the log's tables have fixed names.
#include <gtest/gtest.h>

#include "service_database.h"
#include "storage_backends.h"

namespace busbar::testing {
namespace {

using Numbering = EventLogStorage::Numbering;

class SqlEventLogTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    storage_ = openStorageFrom(GetParam(), createServiceDatabase(GetParam()));
    log_ = eventLogOf(GetParam(), storage_);
    for (auto& migration : log_->migrations()) {
      storage_->transaction([&](Connection& tx) { migration.apply(tx); });
    }
  }

  void write(const std::string& id) {
    Event event;
    event.type = "Tested";
    event.id = id;
    event.origin = "test";
    storage_->transaction([&](Connection& tx) {
      log_->append(tx, {LoggedEvent{0, event, ""}}, 0);
    });
  }

  std::shared_ptr<sql::PocoDataConnection> storage_;
  std::shared_ptr<sql::SqlEventLog> log_;
};

TEST_P(SqlEventLogTest, ANumberingThatReadBeforeAnotherNumberedChangesNothing) {
  ASSERT_EQ(log_->numbering(), Numbering::kAfterCommit);
  write("a");
  write("b");
  const sql::SqlEventLog::Waiting stale = log_->waiting();
  EXPECT_EQ(stale.head, 0);
  EXPECT_EQ(stale.ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(log_->numberOldest().numbers, (EventLogStorage::Numbers{{"a", 1}, {"b", 2}}));
  write("c");
  EXPECT_TRUE(log_->numberIfHeadUnmoved(stale).empty());
  EXPECT_EQ(log_->head().seq, 2u);
  EXPECT_EQ(log_->numbersOf({"a", "b", "c"}), (EventLogStorage::Numbers{{"a", 1}, {"b", 2}}));
  const sql::SqlEventLog::Waiting fresh = log_->waiting();
  EXPECT_EQ(fresh.head, 2);
  EXPECT_EQ(log_->numberIfHeadUnmoved(fresh), (EventLogStorage::Numbers{{"c", 3}}));
  EXPECT_EQ(log_->head().seq, 3u);
}

INSTANTIATE_TEST_SUITE_P(Backends, SqlEventLogTest, ::testing::ValuesIn(serverStorageDrivers()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// Migration 5 (busbar_events.principal) on a log that migrations 1 to 4 made and the release
// before SDK 1.6 wrote: its ALTER TABLE in each dialect, on a table with rows.
class SqlEventLogPrincipalMigrationTest : public ::testing::TestWithParam<std::string> {
 protected:
  static constexpr int kPrincipalMigration = 5;

  void SetUp() override {
    storage_ = openStorageFrom(GetParam(), createServiceDatabase(GetParam()));
    log_ = eventLogOf(GetParam(), storage_);
  }

  void migrate(int first, int last) {
    for (auto& migration : log_->migrations()) {
      if (migration.number < first || migration.number > last) continue;
      storage_->transaction([&](Connection& tx) { migration.apply(tx); });
    }
  }

  std::shared_ptr<sql::PocoDataConnection> storage_;
  std::shared_ptr<sql::SqlEventLog> log_;
};

TEST_P(SqlEventLogPrincipalMigrationTest, OldRowsReadBackCausedByNobodyAndNewOnesKeepTheirs) {
  migrate(1, kPrincipalMigration - 1);
  // Rows as the release before SDK 1.6 logged and numbered them: its INSERT, without principal.
  storage_->transaction([&](Connection& tx) {
    for (int64_t seq : {1, 2}) {
      tx.execute(
          "INSERT INTO busbar_events (event_id, seq, event_type, occurred_on, origin, version, "
          "payload, logged_at, published, request_id) VALUES (?, ?, 'Tested', 0, 'test', 1, "
          "'{}', ?, 0, ?)",
          {"old-" + std::to_string(seq), seq, seq,
           seq == 1 ? Value(std::string("request-old")) : Value()});
    }
    tx.execute("UPDATE busbar_event_head SET seq = 2 WHERE id = 1");
  });

  migrate(kPrincipalMigration, kPrincipalMigration);

  auto old = log_->readAfter2(0, 10);
  ASSERT_EQ(old.size(), 2u);
  EXPECT_EQ(old[0].event.id, "old-1");
  EXPECT_EQ(old[0].request_id, "request-old");
  EXPECT_EQ(old[0].principal, "");
  EXPECT_EQ(old[1].principal, "");
  Event event;
  event.type = "Tested";
  event.id = "new";
  event.origin = "test";
  storage_->transaction([&](Connection& tx) {
    log_->append2(tx, {LoggedEvent2{0, event, "", "alice"}}, 0);
  });
  ASSERT_EQ(log_->numberOldest().numbers.size(), 1u);
  auto added = log_->readAfter2(2, 10);
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0].seq, 3u);
  EXPECT_EQ(added[0].principal, "alice");
}

INSTANTIATE_TEST_SUITE_P(Backends, SqlEventLogPrincipalMigrationTest,
                         ::testing::ValuesIn(serverStorageDrivers()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace busbar::testing

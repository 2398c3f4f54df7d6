// SqliteEventLog (and SqlEventLog's statements under it) on a SQLite file of the test's own: who
// caused each event kept through the log, and migration 5, which adds busbar_events.principal, on
// a log the earlier migrations made and wrote. The log's whole contract is busbar-conformance's
// (conformance/event_log_contract.cpp), which tests/conformance runs on every bundled backend.
#include "sqlite_event_log.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <Poco/File.h>
#include <Poco/TemporaryFile.h>
#include <Poco/Timestamp.h>
#include <gtest/gtest.h>

#include "sqlite_storage.h"

namespace busbar::sqlite {
namespace {

// The number of the migration that adds busbar_events.principal.
constexpr int kPrincipalMigration = 5;

Event eventNamed(const std::string& id) {
  Event event;
  event.type = "Tested";
  event.id = id;
  event.origin = "test";
  event.version = 1;
  event.payload->set("id", id);
  return event;
}

// What a read gives back of an event: (seq, id, request id, principal).
using Attribution = std::tuple<uint64_t, std::string, std::string, std::string>;

std::vector<Attribution> attributionsOf(const std::vector<LoggedEvent2>& events) {
  std::vector<Attribution> attributions;
  for (const auto& logged : events) {
    attributions.emplace_back(logged.seq, logged.event.id, logged.request_id, logged.principal);
  }
  return attributions;
}

class SqliteEventLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteSettings settings;
    settings.path = dir_ + "/log.db";
    storage_ = makeSqliteConnection(settings);
    openSqliteDatabase(*storage_, settings);
    log_ = std::make_shared<SqliteEventLog>(storage_);
  }

  void TearDown() override {
    log_.reset();
    storage_.reset();
    Poco::File(dir_).remove(true);
  }

  // Applies the log's migrations numbered from `first` to `last`, each in a transaction of its
  // own, as the host's migrator does.
  void migrate(int first, int last) {
    for (auto& migration : log_->migrations()) {
      if (migration.number < first || migration.number > last) continue;
      storage_->transaction([&](Connection& tx) { migration.apply(tx); });
    }
  }

  // The principal column of the event `id` as stored.
  Value storedPrincipal(const std::string& id) {
    auto rows =
        storage_->execute("SELECT principal FROM busbar_events WHERE event_id = ?", {id}).rows;
    if (rows.empty()) throw std::runtime_error("no event " + id);
    return rows.front().at("principal");
  }

  std::string dir_ = Poco::TemporaryFile::tempName();
  std::shared_ptr<sql::PocoDataConnection> storage_;
  std::shared_ptr<SqliteEventLog> log_;
};

TEST_F(SqliteEventLogTest, TheMigrationsAreNumberedInOrderWithThePrincipalsLast) {
  const auto migrations = log_->migrations();
  ASSERT_EQ(migrations.size(), static_cast<size_t>(kPrincipalMigration));
  for (size_t i = 0; i < migrations.size(); ++i) {
    EXPECT_EQ(migrations[i].number, static_cast<int>(i + 1));
  }
  EXPECT_NE(migrations.back().description.find("principal"), std::string::npos);
}

TEST_F(SqliteEventLogTest, ThePrincipalComesBackFromEveryRead) {
  migrate(1, kPrincipalMigration);
  const std::vector<LoggedEvent2> events = {
      LoggedEvent2{0, eventNamed("by-alice"), "request-1", "alice"},
      LoggedEvent2{0, eventNamed("by-nobody"), "request-2", ""},
      LoggedEvent2{0, eventNamed("by-billing"), "", "billing-service"}};
  EventLogStorage::Numbers numbers;
  storage_->transaction([&](Connection& tx) {
    numbers = log_->appendNumbered2(tx, events, Poco::Timestamp().epochMicroseconds());
  });
  EXPECT_EQ(numbers,
            (EventLogStorage::Numbers{{"by-alice", 1}, {"by-nobody", 2}, {"by-billing", 3}}));
  // appendNumbered(), which knows no principal, logs the event as caused by nobody.
  storage_->transaction([&](Connection& tx) {
    log_->appendNumbered(tx, {LoggedEvent{0, eventNamed("unattributed"), "request-4"}},
                         Poco::Timestamp().epochMicroseconds());
  });

  const std::vector<Attribution> expected = {{1, "by-alice", "request-1", "alice"},
                                             {2, "by-nobody", "request-2", ""},
                                             {3, "by-billing", "", "billing-service"},
                                             {4, "unattributed", "request-4", ""}};
  EXPECT_EQ(attributionsOf(log_->readAfter2(0, 10)), expected);
  EXPECT_EQ(attributionsOf(log_->readAfter2(2, 1)), (std::vector<Attribution>{expected[2]}));
  // "" is stored as NULL, as event_row::toRow writes it and the rows of earlier logs hold it.
  EXPECT_TRUE(isNull(storedPrincipal("by-nobody")));
  EXPECT_TRUE(isNull(storedPrincipal("unattributed")));
  EXPECT_EQ(asText(storedPrincipal("by-alice")), "alice");

  // The methods without the 2 read the same events, payload included.
  const auto plain = log_->readAfter(0, 10);
  ASSERT_EQ(plain.size(), 4u);
  EXPECT_EQ(plain[0].event.id, "by-alice");
  EXPECT_EQ(plain[0].request_id, "request-1");
  EXPECT_EQ(plain[0].event.payload->getValue<std::string>("id"), "by-alice");

  log_->mark({"by-billing"}, EventLogStorage::Publication::kGivenUp);
  EXPECT_EQ(attributionsOf(log_->unpublished2(0, 0, 10)), (std::vector<Attribution>{expected[2]}));
  const int64_t later = log_->clock() + 1000000;
  EXPECT_EQ(attributionsOf(log_->unpublished2(0, later, 10)), expected);
  EXPECT_EQ(log_->unpublished(0, later, 10).size(), 4u);
  log_->mark({"by-alice"}, EventLogStorage::Publication::kConfirmed);
  EXPECT_EQ(attributionsOf(log_->unpublished2(0, later, 10)),
            (std::vector<Attribution>{expected[1], expected[2], expected[3]}));
}

TEST_F(SqliteEventLogTest, ThePrincipalsMigrationKeepsALogTheEarlierOnesMadeAndWrote) {
  migrate(1, kPrincipalMigration - 1);
  // Rows as the release before SDK 1.6 logged them: its INSERT, which knows no principal column.
  storage_->transaction([&](Connection& tx) {
    int64_t seq = 0;
    for (const char* id : {"old-1", "old-2"}) {
      ++seq;
      tx.execute(
          "INSERT INTO busbar_events (event_id, seq, event_type, occurred_on, origin, version, "
          "payload, logged_at, published, request_id) VALUES (?, ?, 'Tested', 0, 'test', 1, "
          "'{\"id\":\"old\"}', ?, 0, ?)",
          {std::string(id), seq, seq, seq == 1 ? Value(std::string("request-old")) : Value()});
    }
    tx.execute("UPDATE busbar_event_head SET seq = 2 WHERE id = 1");
  });
  const std::string log_id = log_->head().log_id;

  migrate(kPrincipalMigration, kPrincipalMigration);

  EXPECT_EQ(attributionsOf(log_->readAfter2(0, 10)),
            (std::vector<Attribution>{{1, "old-1", "request-old", ""}, {2, "old-2", "", ""}}));
  EXPECT_EQ(log_->head().seq, 2u);
  EXPECT_EQ(log_->head().log_id, log_id) << "the migration keeps the log's identity";
  // New events take the next numbers, with their principals.
  storage_->transaction([&](Connection& tx) {
    log_->appendNumbered2(tx, {LoggedEvent2{0, eventNamed("new"), "", "alice"}},
                          Poco::Timestamp().epochMicroseconds());
  });
  EXPECT_EQ(attributionsOf(log_->readAfter2(2, 10)),
            (std::vector<Attribution>{{3, "new", "", "alice"}}));
  EXPECT_EQ(attributionsOf(log_->unpublished2(0, log_->clock() + 1000000, 10)).size(), 3u);
}

}  // namespace
}  // namespace busbar::sqlite

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

}  // namespace
}  // namespace busbar::testing

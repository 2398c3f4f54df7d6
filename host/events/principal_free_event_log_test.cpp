// The host's stand-in for a storage plugin's event log of SDK 1.3 to 1.5 (no principals), over a
// real SQLite log.
#include "events/principal_free_event_log.h"

#include <limits>

#include "events/sqlite_event_log_fixture.h"

namespace busbar::host {
namespace {

using PrincipalFreeEventLogTest = SqliteEventLogTest;

TEST_F(PrincipalFreeEventLogTest, APluginsOwnEventLogStorage2IsUsedAsItIs) {
  std::shared_ptr<EventLogStorage> plain = log_;
  EXPECT_EQ(withPrincipals(plain).get(), static_cast<EventLogStorage2*>(log_.get()));
  EXPECT_EQ(withPrincipals(nullptr), nullptr);
}

TEST_F(PrincipalFreeEventLogTest, AnOlderStorageLogsAndReadsEventsWithoutTheirPrincipal) {
  PrincipalFreeEventLog older(log_);
  std::vector<LoggedEvent2> events = {{0, userEvent("a"), "request-a", "alice"},
                                      {0, userEvent("b"), "", ""}};
  EventLogStorage::Numbers numbers;
  storage_->transaction([&](Connection& tx) { numbers = older.appendNumbered2(tx, events, 1); });
  EXPECT_EQ(numbers.size(), 2u);
  auto read = older.readAfter2(0, 10);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].event.id, "a");
  EXPECT_EQ(read[0].request_id, "request-a");
  EXPECT_EQ(read[0].principal, "");  // dropped on the way in: such a plugin has no column for it
  EXPECT_EQ(log_->readAfter2(0, 10)[0].principal, "");
  EXPECT_EQ(older.unpublished2(0, std::numeric_limits<int64_t>::max(), 10).size(), 2u);
}

}  // namespace
}  // namespace busbar::host

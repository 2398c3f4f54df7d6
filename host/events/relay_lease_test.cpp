// RelayLease over a real SQLite database: the state a relay's prune is fenced by.
#include "events/relay_lease.h"

#include "events/sqlite_event_log_fixture.h"

namespace busbar::host {
namespace {

using RelayLeaseTest = SqliteEventLogTest;

TEST_F(RelayLeaseTest, HeldIsTheRowASuccessfulHoldLeftAndNothingOtherwise) {
  RelayLease a(*log_, "a", std::chrono::seconds(5));
  RelayLease b(*log_, "b", std::chrono::seconds(5));
  EXPECT_FALSE(a.held());
  ASSERT_TRUE(a.hold());
  ASSERT_TRUE(a.held());
  EXPECT_EQ(a.held()->holder, "a");
  EXPECT_EQ(a.held()->beat, log_->relayLease().beat);
  EXPECT_FALSE(b.hold()) << "a holds it, and has not been silent for 5 s";
  EXPECT_FALSE(b.held()) << "the row b read is a's, not one b held";
  ASSERT_TRUE(a.hold());
  EXPECT_EQ(a.held()->beat, log_->relayLease().beat) << "each hold moves the beat";
  a.release();
  EXPECT_FALSE(a.held());
  ASSERT_TRUE(b.hold());
  EXPECT_FALSE(a.hold()) << "b holds it now";
  EXPECT_FALSE(a.held());
}

}  // namespace
}  // namespace busbar::host

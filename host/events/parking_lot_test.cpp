// The parking lot over a real SQLite database: what is parked survives a restart, a replay takes
// out what it delivered, and what the database could not take is written once it can.
#include "events/parking_lot.h"

#include "busbar/errors.h"
#include "events/sqlite_event_log_fixture.h"

namespace busbar::host {
namespace {

class ParkingLotTest : public SqliteEventLogTest {
 protected:
  std::unique_ptr<ParkingLot> lotOf(const std::string& server_id) {
    return std::make_unique<ParkingLot>(*storage_, server_id, Poco::Logger::get("test"));
  }

  static LoggedEvent2 logged(uint64_t seq, const std::string& id) {
    return LoggedEvent2{seq, userEvent(id), "request-" + id, "token-" + id};
  }

  static std::vector<std::string> idsOf(const std::vector<ParkingLot::Parked>& list) {
    std::vector<std::string> ids;
    for (const auto& parked : list) ids.push_back(parked.logged.event.id);
    return ids;
  }

  int64_t rows() {
    return asInt(storage_->execute("SELECT COUNT(*) AS n FROM busbar_parked_events", {})
                     .rows.front()
                     .at("n"));
  }
};

TEST_F(ParkingLotTest, WhatIsParkedSurvivesARestartOfItsServerOnly) {
  auto lot = lotOf("a:1");
  lot->park(logged(7, "late"), "the cache refused it");
  lot->park(logged(3, "early"), "the disk was full");
  EXPECT_EQ(idsOf(lot->list()), (std::vector<std::string>{"early", "late"}));
  lot.reset();

  auto restarted = lotOf("a:1");
  restarted->load();
  auto list = restarted->list();
  ASSERT_EQ(idsOf(list), (std::vector<std::string>{"early", "late"}));
  EXPECT_EQ(list[0].logged.seq, 3u);
  EXPECT_EQ(list[0].logged.request_id, "request-early");
  EXPECT_EQ(list[0].logged.principal, "token-early");
  EXPECT_EQ(list[0].logged.event.payload->getValue<std::string>("id"), "u1");
  EXPECT_EQ(list[0].error, "the disk was full");
  EXPECT_TRUE(lotOf("b:1")->list().empty());
}

// Over a storage plugin older than SDK 1.6 the host adds no column by SQL of its own, and the lot
// keeps no principal.
TEST_F(ParkingLotTest, OverAStoragePluginWithoutPrincipalsItKeepsNone) {
  EXPECT_EQ(ParkingLot::migrations(false).size(), 1u);
  EXPECT_EQ(ParkingLot::migrations(true).size(), 2u);
  auto lot = std::make_unique<ParkingLot>(*storage_, "a:1", Poco::Logger::get("test"), false);
  lot->park(logged(3, "early"), "the disk was full");
  lot.reset();
  EXPECT_EQ(asText(storage_->execute("SELECT principal FROM busbar_parked_events", {})
                       .rows.front()
                       .at("principal")),
            "");
  auto restarted = lotOf("a:1");
  restarted->load();
  ASSERT_EQ(restarted->list().size(), 1u);
  EXPECT_EQ(restarted->list()[0].logged.principal, "");
  EXPECT_EQ(restarted->list()[0].logged.request_id, "request-early");
}

TEST_F(ParkingLotTest, AReplayTakesOutWhatItDeliveredAndKeepsTheRestWithTheirErrors) {
  auto lot = lotOf("a:1");
  for (uint64_t seq : {1, 2, 3}) lot->park(logged(seq, "e" + std::to_string(seq)), "failed");
  std::vector<std::string> order;
  auto outcome = lot->replay({}, [&](const LoggedEvent2& event) {
    order.push_back(event.event.id);
    if (event.event.id == "e2") throw std::runtime_error("still refused");
  });
  EXPECT_EQ(order, (std::vector<std::string>{"e1", "e2", "e3"}));
  EXPECT_EQ(outcome.delivered, (std::vector<std::string>{"e1", "e3"}));
  ASSERT_EQ(idsOf(outcome.still_parked), std::vector<std::string>{"e2"});
  EXPECT_EQ(outcome.still_parked[0].error, "still refused");
  EXPECT_EQ(outcome.still_parked[0].replays, 1);
  EXPECT_EQ(rows(), 1);
  auto restarted = lotOf("a:1");
  EXPECT_EQ(restarted->list()[0].replays, 1);
}

TEST_F(ParkingLotTest, AReplayOfSomeLeavesTheOthersAndStopsWhereTheDatabaseIsAway) {
  auto lot = lotOf("a:1");
  for (uint64_t seq : {1, 2, 3}) lot->park(logged(seq, "e" + std::to_string(seq)), "failed");
  int tried = 0;
  auto outcome = lot->replay({"e1", "e2"}, [&](const LoggedEvent2&) {
    ++tried;
    throw StorageUnavailable("the database is away");
  });
  EXPECT_EQ(tried, 1);
  EXPECT_TRUE(outcome.delivered.empty());
  EXPECT_EQ(idsOf(outcome.still_parked), (std::vector<std::string>{"e1", "e2"}));
  EXPECT_EQ(lot->size(), 3u);
}

TEST_F(ParkingLotTest, WhatTheDatabaseCouldNotTakeIsWrittenAtTheNextLook) {
  auto lot = lotOf("a:1");
  lot->list();  // loaded
  storage_->execute("ALTER TABLE busbar_parked_events RENAME TO away", {});
  lot->park(logged(1, "e1"), "failed");
  EXPECT_EQ(lot->size(), 1u);
  EXPECT_EQ(lot->unsaved(), 1u);
  storage_->execute("ALTER TABLE away RENAME TO busbar_parked_events", {});
  lot->flush();
  EXPECT_EQ(lot->unsaved(), 0u);
  EXPECT_EQ(rows(), 1);
}

TEST_F(ParkingLotTest, ADroppedEventIsGoneForGood) {
  auto lot = lotOf("a:1");
  lot->park(logged(1, "poison"), "failed");
  EXPECT_FALSE(lot->drop("unknown"));
  EXPECT_TRUE(lot->drop("poison"));
  EXPECT_EQ(lot->size(), 0u);
  EXPECT_EQ(rows(), 0);
}

}  // namespace
}  // namespace busbar::host

// Test support: a SQLite database of the test's own with the event log's tables, for the unit
// tests of the event log's parts (the other backends are in tests/storage).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <Poco/File.h>
#include <Poco/TemporaryFile.h>
#include <Poco/Timestamp.h>
#include <gtest/gtest.h>

#include "events/event_log.h"
#include "events/parking_lot.h"
#include "sqlite_event_log.h"
#include "sqlite_storage.h"

namespace busbar::host {

inline Event userEvent(const std::string& id, int64_t version = 1) {
  Event event;
  event.type = "UserWasUpdated";
  event.id = id;
  event.origin = "test:1";
  event.version = version;
  event.payload->set("id", "u1");
  return event;
}

class SqliteEventLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sqlite::SqliteSettings settings;
    settings.path = dir_ + "/log.db";
    storage_ = sqlite::makeSqliteConnection(settings);
    sqlite::openSqliteDatabase(*storage_, settings);
    log_ = std::make_shared<sqlite::SqliteEventLog>(storage_);
    for (auto& migration : log_->migrations()) migration.apply(*storage_);
    for (auto& migration : ParkingLot::migrations()) migration.apply(*storage_);
  }
  void TearDown() override {
    log_.reset();
    storage_.reset();
    Poco::File(dir_).remove(true);
  }

  // `events` as a writer hands them to the log: not numbered yet, without a request id.
  static std::vector<LoggedEvent2> unnumbered(const std::vector<Event>& events) {
    std::vector<LoggedEvent2> logged;
    for (const auto& event : events) logged.push_back(LoggedEvent2{0, event, "", ""});
    return logged;
  }

  // Appends and numbers `events` in a transaction of their own, as a writer on SQLite does;
  // returns the first number.
  uint64_t append(const std::vector<Event>& events,
                  int64_t logged_at = Poco::Timestamp().epochMicroseconds()) {
    EventLogStorage::Numbers numbers;
    storage_->transaction([&](Connection& tx) {
      numbers = log_->appendNumbered2(tx, unnumbered(events), logged_at);
    });
    return numbers.at(events.front().id);
  }

  // Polls `condition` every 10 ms for up to 5 s; returns its last result.
  static bool eventually(const std::function<bool()>& condition) {
    for (int i = 0; i < 500; ++i) {
      if (condition()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return condition();
  }

  std::string dir_ = Poco::TemporaryFile::tempName();
  std::shared_ptr<sql::PocoDataConnection> storage_;
  std::shared_ptr<sqlite::SqliteEventLog> log_;
};

}  // namespace busbar::host

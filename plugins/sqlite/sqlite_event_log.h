// SqliteEventLog: the event log on SQLite. One transaction writes at a time, so the writer numbers
// its own events as the last statements of its transaction (Numbering::kByWriter), and stamps
// them by its own clock. Thread-safe as the Connection is.
#pragma once

#include "sql_event_log.h"

namespace busbar::sqlite {

class SqliteEventLog : public sql::SqlEventLog {
 public:
  using SqlEventLog::SqlEventLog;

  Numbering numbering() const override { return Numbering::kByWriter; }
  Numbers appendNumbered2(Connection& transaction, const std::vector<LoggedEvent2>& events,
                          int64_t logged_at) override;
  // In a transaction of its own, under the database's write lock, which one transaction holds
  // at a time anyway.
  NumberingResult numberOldest() override;

  // Inside `transaction`: numbers the oldest events without a number (up to kNumberingBatch), in
  // the order they were logged, after the head, and moves the head.
  static NumberingResult numberPending(Connection& transaction);

 protected:
  const char* stampSql() const override { return "?"; }
  std::string tableIdentitiesSql() const override;
  std::string unpublishedIndexSql() const override;
};

}  // namespace busbar::sqlite

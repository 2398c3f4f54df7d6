#include "mysql_event_log.h"

#include "busbar/errors.h"

namespace busbar::mysql {

// One multi-table UPDATE in a transaction of its own, by primary key, so that it locks the head
// and the listed rows alone, and only while it runs (see PostgresqlEventLog for why one statement
// is the fence): FORCE INDEX keeps InnoDB from scanning the seq index instead, whose NULL range
// every writer inserts into (it would wait for any writer's open transaction, a frozen one's too).
EventLogStorage::Numbers MysqlEventLog::numberIfHeadUnmoved(const Waiting& waiting) {
  if (waiting.ids.empty()) return {};
  const std::vector<std::string>& ids = waiting.ids;
  Numbers numbers;
  std::vector<Value> params;
  const std::string cases = numberCases(waiting, params, numbers);
  const int64_t last = waiting.head + static_cast<int64_t>(ids.size());
  params.emplace_back(last);
  params.emplace_back(waiting.head);
  const std::string listed = inList(ids, 0, ids.size(), params);
  const uint64_t changed =
      storage()
          .execute(
              "UPDATE busbar_event_head h, busbar_events e FORCE INDEX (PRIMARY) SET e.seq = "
              "CASE e.event_id" +
                  cases +
                  " END, h.seq = CAST(? AS SIGNED) WHERE h.id = 1 AND h.seq = CAST(? AS "
                  "SIGNED) AND e.seq IS NULL AND e.event_id" +
                  listed,
              params)
          .affected;
  if (changed == 0) return {};
  if (changed != ids.size() + 1) {
    throw StorageError("a numbering changed " + std::to_string(changed) + " rows instead of " +
                       std::to_string(ids.size() + 1) +
                       ": events waiting for a number were changed outside busbar");
  }
  return numbers;
}

const char* MysqlEventLog::stampSql() const {
  return "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) + ?";
}

std::string MysqlEventLog::tableIdentitiesSql() const {
  // The creation time, by the second: a table made again within the same second keeps it.
  return "SELECT TABLE_NAME AS name, CAST(IFNULL(CREATE_TIME, '') AS CHAR) AS made "
         "FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()";
}

void MysqlEventLog::boundLockWait(Connection& transaction, int seconds) {
  // MariaDB has no per-transaction setting: the session's, set back by unboundLockWait().
  transaction.execute("SET SESSION innodb_lock_wait_timeout = " + std::to_string(seconds));
}

void MysqlEventLog::unboundLockWait(Connection& transaction) noexcept {
  try {
    transaction.execute("SET SESSION innodb_lock_wait_timeout = DEFAULT");
  } catch (...) {
    // A broken session is closed, not returned to the pool, and its setting goes with it.
  }
}

std::string MysqlEventLog::unpublishedIndexSql() const {
  // No partial index on MariaDB: its ranges by `published` serve the relay's looks.
  return "CREATE INDEX busbar_events_unpublished ON busbar_events (published, seq)";
}

}  // namespace busbar::mysql

#include "postgresql_event_log.h"

#include "busbar/errors.h"
#include "sql_event_log_schema.h"

namespace busbar::postgresql {

// One statement in a transaction of its own: the database holds the head row's lock only while it
// runs the statement, never while it waits for this client. A client frozen before it sends the
// statement holds nothing, and when it resumes its statement finds the head moved and changes
// nothing (the compare is the fence); a client frozen after sending it cannot keep the database
// from finishing and committing it. The events' update runs only when the head's, in the same
// statement, moved it; after waiting for another numbering's lock, the head's re-checks its row as
// that one left it.
EventLogStorage::Numbers PostgresqlEventLog::numberIfHeadUnmoved(const Waiting& waiting) {
  if (waiting.ids.empty()) return {};
  const std::vector<std::string>& ids = waiting.ids;
  Numbers numbers;
  std::vector<Value> params;
  const std::string cases = numberCases(waiting, params, numbers);
  const int64_t last = waiting.head + static_cast<int64_t>(ids.size());
  std::vector<Value> head_params = {last, waiting.head};
  head_params.insert(head_params.end(), params.begin(), params.end());
  const std::string listed = inList(ids, 0, ids.size(), head_params);
  const auto rows = storage()
                        .execute(
                            "WITH moved AS (UPDATE busbar_event_head SET seq = CAST(? AS BIGINT) "
                            "WHERE id = 1 AND seq = CAST(? AS BIGINT) RETURNING seq) "
                            "UPDATE busbar_events SET seq = CASE event_id" +
                                cases +
                                " END WHERE seq IS NULL AND EXISTS (SELECT 1 FROM moved) "
                                "AND event_id" +
                                listed + " RETURNING event_id",
                            head_params)
                        .rows;
  if (rows.empty()) return {};
  if (rows.size() != ids.size()) {
    throw StorageError("a numbering changed " + std::to_string(rows.size()) +
                       " events instead of " + std::to_string(ids.size()) +
                       ": events waiting for a number were changed outside busbar");
  }
  return numbers;
}

const char* PostgresqlEventLog::stampSql() const {
  // clock_timestamp(), not now(): the time of the insert, not of the transaction's start, so that
  // a later version of a row, committed after the earlier one's event was inserted, is stamped
  // later and numbered after it.
  return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT) + ?";
}

std::string PostgresqlEventLog::tableIdentitiesSql() const {
  // relfilenode: TRUNCATE, VACUUM FULL and a rewriting ALTER give one too (a reload more).
  return "SELECT c.relname AS name, CAST(c.oid AS TEXT) || '/' || CAST(c.relfilenode AS TEXT) AS "
         "made FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
         "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'i')";
}

void PostgresqlEventLog::boundLockWait(Connection& transaction, int seconds) {
  // For this transaction only: it ends with it.
  transaction.execute("SET LOCAL lock_timeout = '" + std::to_string(seconds) + "s'");
}

std::string PostgresqlEventLog::unpublishedIndexSql() const {
  // A partial index: the unconfirmed rows alone (a few, in flight), which costs a write little.
  return "CREATE INDEX busbar_events_unpublished ON busbar_events (seq) WHERE " +
         std::string(sql::schema::kNotConfirmed);
}

}  // namespace busbar::postgresql

#include "sqlite_event_log.h"

#include "busbar/errors.h"
#include "sql_event_log_schema.h"

namespace busbar::sqlite {

EventLogStorage::Numbers SqliteEventLog::appendNumbered2(Connection& transaction,
                                                         const std::vector<LoggedEvent2>& events,
                                                         int64_t logged_at) {
  const auto count = static_cast<int64_t>(events.size());
  // One statement: the writer's commit path (SQLite 3.35 and later have RETURNING).
  auto head = transaction.execute(
      "UPDATE busbar_event_head SET seq = seq + ? WHERE id = 1 RETURNING seq", {count});
  if (head.rows.empty()) {
    throw StorageError("the event log has no head row; was its migration applied?");
  }
  int64_t seq = asInt(head.rows.front().at("seq")) - count;
  Numbers numbers;
  for (const auto& logged : events) {
    insertEvent(transaction, logged, ++seq, logged_at++);
    numbers[logged.event.id] = static_cast<uint64_t>(seq);
  }
  return numbers;
}

EventLogStorage::NumberingResult SqliteEventLog::numberOldest() {
  NumberingResult numbering;
  storage().transaction([&](Connection& tx) { numbering = numberPending(tx); });
  return numbering;
}

EventLogStorage::NumberingResult SqliteEventLog::numberPending(Connection& transaction) {
  const std::string oldest =
      "SELECT event_id FROM busbar_events WHERE seq IS NULL"
      " ORDER BY logged_at, event_id LIMIT " +
      std::to_string(kNumberingBatch);
  NumberingResult numbering;
  // The database's write lock, for the rest of the transaction: SQLite has no FOR UPDATE, and an
  // update that changes nothing takes it.
  transaction.execute("UPDATE busbar_event_head SET seq = seq WHERE id = 1");
  const ExecuteResult head = transaction.execute("SELECT seq FROM busbar_event_head WHERE id = 1");
  if (head.rows.empty()) {
    throw StorageError("the event log has no head row; was its migration applied?");
  }
  const int64_t from = asInt(head.rows.front().at("seq"));
  auto pending = transaction.execute(oldest).rows;
  numbering.more = pending.size() == kNumberingBatch;
  if (pending.empty()) return numbering;
  std::string cases;
  std::string keys;
  std::vector<Value> params;
  std::vector<Value> key_params;
  int64_t seq = from;
  for (const auto& row : pending) {
    std::string id = asText(row.at("event_id"));
    cases += " WHEN ? THEN CAST(? AS BIGINT)";
    params.emplace_back(id);
    params.emplace_back(++seq);
    keys += keys.empty() ? "?" : ", ?";
    key_params.emplace_back(id);
    numbering.numbers[id] = static_cast<uint64_t>(seq);
  }
  params.insert(params.end(), key_params.begin(), key_params.end());
  transaction.execute("UPDATE busbar_events SET seq = CASE event_id" + cases +
                          " END WHERE event_id IN (" + keys + ")",
                      params);
  transaction.execute("UPDATE busbar_event_head SET seq = ? WHERE id = 1", {seq});
  return numbering;
}

std::string SqliteEventLog::tableIdentitiesSql() const {
  // SQLite counts every change of its schema; a table made again may get the same root page.
  return "SELECT 'sqlite schema' AS name, CAST(schema_version AS TEXT) AS made "
         "FROM pragma_schema_version";
}

std::string SqliteEventLog::unpublishedIndexSql() const {
  // A partial index: the unconfirmed rows alone (a few, in flight), which costs a write little.
  return "CREATE INDEX busbar_events_unpublished ON busbar_events (seq) WHERE " +
         std::string(sql::schema::kNotConfirmed);
}

}  // namespace busbar::sqlite

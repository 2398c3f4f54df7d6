#include "events/event_log.h"

#include <algorithm>
#include <sstream>

#include <Poco/JSON/Parser.h>
#include <Poco/Timestamp.h>

#include "busbar/errors.h"
#include "events/event_log_schema.h"
#include "events/event_row.h"

namespace busbar::host {
namespace {

constexpr const char* kEventColumns =
    "seq, event_id, event_type, occurred_on, origin, version, payload, request_id";
// Rows per statement when a list of sequence numbers is sent as IN (...), and per DELETE.
constexpr size_t kInChunk = 200;
constexpr uint64_t kDeleteChunk = 10000;

uint64_t asSeq(const Value& value) { return static_cast<uint64_t>(asInt(value)); }

// The SQL that stamps an event row's logged_at: the database server's clock in microseconds
// since the epoch plus the bound offset (the event's place in its transaction), so that every
// writer's events are stamped by one clock whatever the writers' clocks say; SQLite, whose clock
// is the writer's own, takes the bound value as it is. A later version of a row commits after
// the earlier one's event was inserted, so one key's events are stamped in version order, and
// numbering by logged_at numbers them in that order.
const char* loggedAtSql(const std::string& driver) {
  if (driver == "mysql")
    return "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) + ?";
  if (driver == "postgresql")
    return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT) + ?";
  return "?";
}

// Inserts `logged` into busbar_events, numbered `seq` (NULL: not yet), logged_at as `stamp`
// (an SQL expression with one placeholder, bound to `logged_at`): one statement of constant text
// per backend, the last of every write's transaction.
void insertEvent(Connection& transaction, const LoggedEvent& logged, Value seq, int64_t logged_at,
                 const char* stamp = "?") {
  const std::string sql =
      std::string(
          "INSERT INTO busbar_events (event_id, seq, event_type, occurred_on, origin, "
          "version, payload, logged_at, published, request_id) VALUES (?, ?, ?, ?, ?, ?, "
          "?, ") +
      stamp + ", " + std::to_string(schema::kUnconfirmedMark) + ", ?)";
  const Event& event = logged.event;
  transaction.execute(
      sql, {event.id, std::move(seq), event.type, event.occurred_on.epochMicroseconds(),
            event.origin, event.version, payloadText(event), logged_at,
            logged.request_id.empty() ? Value(std::monostate{}) : Value(logged.request_id)});
}

std::vector<LoggedEvent> toLoggedEvents(const std::vector<Row>& rows) {
  std::vector<LoggedEvent> events;
  events.reserve(rows.size());
  for (const auto& row : rows) events.push_back(toLoggedEvent(row));
  return events;
}

std::optional<uint64_t> firstSeq(const ExecuteResult& result) {
  if (result.rows.empty() || isNull(result.rows.front().at("seq"))) return std::nullopt;
  return asSeq(result.rows.front().at("seq"));
}

std::optional<std::string> eventIdIn(const ExecuteResult& result) {
  if (result.rows.empty()) return std::nullopt;
  return asText(result.rows.front().at("event_id"));
}

// The length a list of `count` values is sent with: the next power of two, the last value
// repeated (which changes neither an IN (...) nor a CASE). The SQL built for a list then takes one
// of a few forms, which sessions keep prepared, where each length would be a statement of its own.
size_t paddedLength(size_t count) {
  size_t length = 1;
  while (length < count) length <<= 1;
  return length;
}

// " IN (?, ?, ...)" for `ids` padded (paddedLength), their values appended to `params`.
std::string inList(const std::vector<std::string>& ids, size_t from, size_t to,
                   std::vector<Value>& params) {
  std::string sql = " IN (";
  const size_t length = paddedLength(to - from);
  for (size_t i = 0; i < length; ++i) {
    sql += i == 0 ? "?" : ", ?";
    params.emplace_back(ids[std::min(from + i, to - 1)]);
  }
  return sql + ")";
}

}  // namespace

EventLog::Waiting EventLog::waiting() {
  // One statement, so one snapshot: a plain read, which waits for no lock and for no writer's
  // open transaction.
  auto rows = storage_
                  .execute(
                      "SELECT h.seq AS head, w.event_id FROM busbar_event_head h LEFT JOIN "
                      "(SELECT event_id, logged_at FROM busbar_events WHERE seq IS NULL "
                      "ORDER BY logged_at, event_id LIMIT " +
                          std::to_string(kNumberingBatch) +
                          ") w ON 1 = 1 WHERE h.id = 1 ORDER BY w.logged_at, w.event_id",
                      {})
                  .rows;
  if (rows.empty()) {
    throw StorageError("the event log has no head row; was its migration applied?");
  }
  Waiting waiting;
  waiting.head = asInt(rows.front().at("head"));
  for (const auto& row : rows) {
    if (!isNull(row.at("event_id"))) waiting.ids.push_back(asText(row.at("event_id")));
  }
  return waiting;
}

// One statement in a transaction of its own: the database holds the head row's lock only while it
// runs the statement, never while it waits for this client. A client frozen before it sends the
// statement holds nothing, and when it resumes its statement finds the head moved and changes
// nothing (the compare is the fence); a client frozen after sending it cannot keep the database
// from finishing and committing it.
EventLog::Numbers EventLog::numberIfHeadUnmoved(const Waiting& waiting) {
  if (waiting.ids.empty()) return {};
  const std::string driver = storage_.driver();
  const char* type = driver == "mysql" ? "SIGNED" : "BIGINT";
  const std::vector<std::string>& ids = waiting.ids;
  EventLog::Numbers numbers;
  std::vector<Value> params;
  std::string cases;
  for (size_t i = 0; i < paddedLength(ids.size()); ++i) {
    const size_t at = std::min(i, ids.size() - 1);
    cases += std::string(" WHEN ? THEN CAST(? AS ") + type + ")";
    params.emplace_back(ids[at]);
    params.emplace_back(waiting.head + 1 + static_cast<int64_t>(at));
    numbers[ids[at]] = static_cast<uint64_t>(waiting.head + 1 + static_cast<int64_t>(at));
  }
  const int64_t last = waiting.head + static_cast<int64_t>(ids.size());
  if (driver == "mysql") {
    // One multi-table UPDATE, by primary key, so that it locks the head and the listed rows alone:
    // FORCE INDEX keeps InnoDB from scanning the seq index instead, whose NULL range every writer
    // inserts into (it would wait for any writer's open transaction, a frozen one's too).
    params.emplace_back(last);
    params.emplace_back(waiting.head);
    const std::string listed = inList(ids, 0, ids.size(), params);
    const uint64_t changed =
        storage_
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
  // PostgreSQL: the events' update runs only when the head's, in the same statement, moved it;
  // after waiting for another numbering's lock, the head's re-checks its row as that one left it.
  std::vector<Value> head_params = {last, waiting.head};
  head_params.insert(head_params.end(), params.begin(), params.end());
  const std::string listed = inList(ids, 0, ids.size(), head_params);
  const auto rows = storage_
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

void EventLog::append(Connection& transaction, const std::vector<LoggedEvent>& events,
                      int64_t logged_at) {
  // One microsecond apart: numbering goes by logged_at, so a transaction's events keep the order
  // they were dispatched in.
  const char* stamp = loggedAtSql(transaction.driver());
  const bool own_clock = std::string(stamp) != "?";
  int64_t offset = own_clock ? 0 : logged_at;
  for (const auto& logged : events) {
    insertEvent(transaction, logged, std::monostate{}, offset++, stamp);
  }
}

EventLog::Numbers EventLog::appendNumbered(Connection& transaction,
                                           const std::vector<LoggedEvent>& events,
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

EventLog::Numbering EventLog::numberPending(Connection& transaction) {
  const std::string oldest =
      "SELECT event_id FROM busbar_events WHERE seq IS NULL"
      " ORDER BY logged_at, event_id LIMIT " +
      std::to_string(kNumberingBatch);
  Numbering numbering;
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

bool EventLog::numbersInsideTransactions() const { return storage_.driver() == "sqlite"; }

EventLog::Numbering EventLog::numberOldest() {
  // Committed durably, as every write: a number a database crash took back could be given to
  // another event after the restart, while a follower already applied the first one.
  Numbering numbering;
  if (numbersInsideTransactions()) {
    storage_.transaction([&](Connection& tx) { numbering = numberPending(tx); });
    return numbering;
  }
  // Another numbering that moved the head first numbered what this one read, or some of it:
  // read again and number what still waits. Each lost attempt is another's success, so the
  // numberings as a whole always progress; the attempts of one are bounded, and a caller whose
  // events are left finds them numbered or numbers them next time.
  for (int attempt = 0; attempt < kCompareAndSetAttempts; ++attempt) {
    const Waiting found = waiting();
    if (found.ids.empty()) return numbering;
    numbering.numbers = numberIfHeadUnmoved(found);
    if (!numbering.numbers.empty()) {
      numbering.more = found.ids.size() == kNumberingBatch;
      return numbering;
    }
  }
  return numbering;
}

EventLog::Numbers EventLog::numbersOf(const std::vector<std::string>& ids) {
  Numbers numbers;
  for (size_t start = 0; start < ids.size(); start += kInChunk) {
    const size_t end = std::min(ids.size(), start + kInChunk);
    std::vector<Value> params;
    const std::string sql =
        "SELECT event_id, seq FROM busbar_events WHERE event_id" + inList(ids, start, end, params);
    for (const auto& row : storage_.execute(sql, params).rows) {
      if (!isNull(row.at("seq"))) numbers[asText(row.at("event_id"))] = asSeq(row.at("seq"));
    }
  }
  return numbers;
}

bool EventLog::hasUnnumbered(std::chrono::microseconds waited) {
  // The age by the clock that stamped logged_at.
  const std::string driver = storage_.driver();
  const char* stamp = loggedAtSql(driver);
  const int64_t before = std::string(stamp) == "?"
                             ? Poco::Timestamp().epochMicroseconds() - waited.count()
                             : -waited.count();
  return !storage_
              .execute(std::string("SELECT event_id FROM busbar_events WHERE seq IS NULL AND "
                                   "logged_at <= ") +
                           stamp + " LIMIT 1",
                       {before})
              .rows.empty();
}

int64_t EventLog::clock() {
  const std::string driver = storage_.driver();
  if (driver != "mysql" && driver != "postgresql") return Poco::Timestamp().epochMicroseconds();
  // CAST: MariaDB gives the sum as a DECIMAL.
  const std::string type = driver == "mysql" ? "SIGNED" : "BIGINT";
  auto rows = storage_
                  .execute(std::string("SELECT CAST(") + loggedAtSql(driver) + " AS " + type +
                               ") AS log_now",
                           {int64_t{0}})
                  .rows;
  if (rows.empty()) throw StorageError("the database did not tell its time");
  return asInt(rows.front().at("log_now"));
}

std::map<std::string, std::string> EventLog::tableIdentities() {
  const std::string driver = storage_.driver();
  std::string sql;
  if (driver == "mysql") {
    sql =
        "SELECT TABLE_NAME AS name, CAST(IFNULL(CREATE_TIME, '') AS CHAR) AS made "
        "FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()";
  } else if (driver == "postgresql") {
    // relfilenode: TRUNCATE, VACUUM FULL and a rewriting ALTER give one too (a reload more).
    sql =
        "SELECT c.relname AS name, CAST(c.oid AS TEXT) || '/' || CAST(c.relfilenode AS TEXT) AS "
        "made FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'i')";
  } else {
    // SQLite counts every change of its schema; a table made again may get the same root page.
    sql =
        "SELECT 'sqlite schema' AS name, CAST(schema_version AS TEXT) AS made "
        "FROM pragma_schema_version";
  }
  std::map<std::string, std::string> identities;
  for (const Row& row : storage_.execute(sql, {}).rows) {
    identities[asText(row.at("name"))] = asText(row.at("made"));
  }
  return identities;
}

LogHead EventLog::head() {
  auto row = storage_.findOne(schema::kHead, {{"id", int64_t{1}}});
  if (!row) throw StorageError("the event log has no head row; was its migration applied?");
  return LogHead{asSeq(row->at("seq")), asText(row->at("log_id"))};
}

LogPosition EventLog::position() {
  LogHead at = head();
  LogPosition position{at.seq, ""};
  if (at.seq > 0) position.event_id = eventIdAt(at.seq).value_or("");
  return position;
}

std::vector<LoggedEvent> EventLog::readAfter(uint64_t after, size_t limit) {
  return toLoggedEvents(storage_
                            .execute(std::string("SELECT ") + kEventColumns +
                                         " FROM busbar_events WHERE seq > ? ORDER BY seq LIMIT " +
                                         std::to_string(limit),
                                     {static_cast<int64_t>(after)})
                            .rows);
}

std::optional<std::string> EventLog::eventIdAt(uint64_t seq) {
  return eventIdIn(storage_.execute("SELECT event_id FROM busbar_events WHERE seq = ?",
                                    {static_cast<int64_t>(seq)}));
}

bool EventLog::contains(const std::string& event_id) {
  return !storage_.execute("SELECT event_id FROM busbar_events WHERE event_id = ?", {event_id})
              .rows.empty();
}

bool EventLog::committedSettled(const std::string& event_id, int lock_wait_seconds) {
  // Raised to roll the probe back when its insert went through.
  struct ProbeInserted {};
  bool taken = false;
  const std::string driver = storage_.driver();
  try {
    storage_.transaction([&](Connection& tx) {
      // Bound the wait for the transaction that may still hold the id (where the backend has a
      // per-transaction or per-session setting; SQLite's busy timeout bounds it there).
      const std::string wait = std::to_string(std::max(1, lock_wait_seconds));
      if (driver == "postgresql") tx.execute("SET LOCAL lock_timeout = '" + wait + "s'");
      if (driver == "mysql") tx.execute("SET SESSION innodb_lock_wait_timeout = " + wait);
      try {
        LoggedEvent probe;
        probe.event.id = event_id;
        probe.event.type = "Probe";
        probe.event.origin = "probe";
        insertEvent(tx, probe, std::monostate{}, 0);
      } catch (const DuplicateKey&) {
        taken = true;
      } catch (...) {
        if (driver == "mysql") tx.execute("SET SESSION innodb_lock_wait_timeout = DEFAULT");
        throw;
      }
      if (driver == "mysql") tx.execute("SET SESSION innodb_lock_wait_timeout = DEFAULT");
      if (!taken) throw ProbeInserted{};
    });
  } catch (const ProbeInserted&) {
    return false;
  }
  return taken;
}

std::optional<uint64_t> EventLog::oldest() {
  return firstSeq(
      storage_.execute("SELECT seq FROM busbar_events WHERE seq IS NOT NULL ORDER BY seq LIMIT 1"));
}

void EventLog::mark(const std::vector<std::string>& event_ids, Publication state) {
  // A confirm always wins; giving up only marks an event nobody confirmed.
  const std::string set =
      state == Publication::kConfirmed
          ? "UPDATE busbar_events SET published = " + std::to_string(schema::kConfirmedMark) +
                " WHERE "
          : "UPDATE busbar_events SET published = " + std::to_string(schema::kGivenUpMark) +
                " WHERE published = " + std::to_string(schema::kUnconfirmedMark) + " AND ";
  for (size_t start = 0; start < event_ids.size(); start += kInChunk) {
    const size_t end = std::min(event_ids.size(), start + kInChunk);
    std::vector<Value> params;
    storage_.execute(set + "event_id" + inList(event_ids, start, end, params), params);
  }
}

std::vector<LoggedEvent> EventLog::unpublished(uint64_t after, int64_t orphaned_before,
                                               size_t limit) {
  // One range of busbar_events_unpublished each, read in seq order up to the limit; the lowest
  // `limit` of both.
  const std::string select = std::string("SELECT ") + kEventColumns + " FROM busbar_events WHERE " +
                             schema::kNotConfirmed + " AND published = ? AND seq > ?";
  const std::string first = " ORDER BY seq LIMIT " + std::to_string(limit);
  auto events = toLoggedEvents(
      storage_.execute(select + first, {schema::kGivenUpMark, static_cast<int64_t>(after)}).rows);
  auto orphans = toLoggedEvents(
      storage_
          .execute(select + " AND logged_at < ?" + first,
                   {schema::kUnconfirmedMark, static_cast<int64_t>(after), orphaned_before})
          .rows);
  events.insert(events.end(), std::make_move_iterator(orphans.begin()),
                std::make_move_iterator(orphans.end()));
  std::sort(events.begin(), events.end(),
            [](const LoggedEvent& a, const LoggedEvent& b) { return a.seq < b.seq; });
  if (events.size() > limit) events.resize(limit);
  return events;
}

uint64_t EventLog::countUnpublished(uint64_t after) {
  auto result = storage_.execute(
      "SELECT COUNT(*) AS unpublished FROM busbar_events WHERE " +
          std::string(schema::kNotConfirmed) + " AND published IN (?, ?) AND seq > ?",
      {schema::kUnconfirmedMark, schema::kGivenUpMark, static_cast<int64_t>(after)});
  return result.rows.empty() ? 0 : asSeq(result.rows.front().at("unpublished"));
}

uint64_t EventLog::prune(const Retention& retention, int64_t now) {
  const uint64_t last = head().seq;
  // Keep seq >= keep_from: the newest `events`, ...
  uint64_t keep_from = last >= retention.events ? last - retention.events + 1 : 0;
  // ... none logged before the age limit (the scan stops at the first young row), ...
  auto young = firstSeq(storage_.execute(
      "SELECT seq FROM busbar_events WHERE seq IS NOT NULL AND logged_at >= ? ORDER BY seq LIMIT 1",
      {now - retention.seconds * 1000000}));
  keep_from = std::max(keep_from, young.value_or(last + 1));
  // ... and every event from the first one no broker confirmed.
  for (int64_t mark : {schema::kUnconfirmedMark, schema::kGivenUpMark}) {
    auto unconfirmed = firstSeq(storage_.execute(
        "SELECT seq FROM busbar_events WHERE " + std::string(schema::kNotConfirmed) +
            " AND published = ? AND seq IS NOT NULL ORDER BY seq LIMIT 1",
        {mark}));
    if (unconfirmed) keep_from = std::min(keep_from, *unconfirmed);
  }

  uint64_t deleted = 0;
  for (auto from = oldest(); from && *from < keep_from;) {
    const uint64_t below = std::min(keep_from, *from + kDeleteChunk);
    deleted +=
        storage_.execute("DELETE FROM busbar_events WHERE seq < ?", {static_cast<int64_t>(below)})
            .affected;
    from = below < keep_from ? std::optional<uint64_t>(below) : std::nullopt;
  }
  return deleted;
}

}  // namespace busbar::host

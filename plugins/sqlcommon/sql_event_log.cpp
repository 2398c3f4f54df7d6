#include "sql_event_log.h"

#include <algorithm>

#include <Poco/Timestamp.h>

#include "busbar/errors.h"
#include "busbar/logged_event_row.h"
#include "sql_event_log_schema.h"

namespace busbar::sql {
namespace {

constexpr const char* kEventColumns =
    "seq, event_id, event_type, occurred_on, origin, version, payload, request_id, principal";
// Rows per statement when a list of ids is sent as IN (...), and per DELETE.
constexpr size_t kInChunk = 200;
constexpr uint64_t kDeleteChunk = 10000;

uint64_t asSeq(const Value& value) { return static_cast<uint64_t>(asInt(value)); }

std::vector<LoggedEvent2> toLoggedEvents(const std::vector<Row>& rows) {
  std::vector<LoggedEvent2> events;
  events.reserve(rows.size());
  for (const auto& row : rows) events.push_back(event_row::fromRow2(row));
  return events;
}

// `events` without their principals, for the callers of the methods without the 2.
std::vector<LoggedEvent> withoutPrincipals(std::vector<LoggedEvent2>&& events) {
  std::vector<LoggedEvent> plain;
  plain.reserve(events.size());
  for (auto& logged : events) {
    plain.push_back(LoggedEvent{logged.seq, std::move(logged.event), std::move(logged.request_id)});
  }
  return plain;
}

// `events` caused by nobody (principal ""), for the writers through the methods without the 2.
std::vector<LoggedEvent2> causedByNobody(const std::vector<LoggedEvent>& events) {
  std::vector<LoggedEvent2> attributed;
  attributed.reserve(events.size());
  for (const auto& logged : events) {
    attributed.push_back(LoggedEvent2{logged.seq, logged.event, logged.request_id, {}});
  }
  return attributed;
}

// NULL for "": the columns that may name nothing hold NULL then, as event_row::toRow writes them.
Value textOrNull(const std::string& text) {
  return text.empty() ? Value(std::monostate{}) : Value(text);
}

std::optional<uint64_t> firstSeq(const ExecuteResult& result) {
  if (result.rows.empty() || isNull(result.rows.front().at("seq"))) return std::nullopt;
  return asSeq(result.rows.front().at("seq"));
}

std::optional<std::string> eventIdIn(const ExecuteResult& result) {
  if (result.rows.empty()) return std::nullopt;
  return asText(result.rows.front().at("event_id"));
}

}  // namespace

void SqlEventLog::insertEvent(Connection& transaction, const LoggedEvent2& logged, Value seq,
                              int64_t logged_at, const char* stamp) {
  // One statement of constant text per backend, the last of every write's transaction: the
  // principal is one more value of it, not a statement of its own.
  const std::string sql =
      std::string(
          "INSERT INTO busbar_events (event_id, seq, event_type, occurred_on, origin, "
          "version, payload, logged_at, published, request_id, principal) VALUES (?, ?, ?, ?, "
          "?, ?, ?, ") +
      stamp + ", " + std::to_string(schema::kUnconfirmedMark) + ", ?, ?)";
  const Event& event = logged.event;
  transaction.execute(sql,
                      {event.id, std::move(seq), event.type, event.occurred_on.epochMicroseconds(),
                       event.origin, event.version, event_row::payloadText(event), logged_at,
                       textOrNull(logged.request_id), textOrNull(logged.principal)});
}

size_t SqlEventLog::paddedLength(size_t count) {
  size_t length = 1;
  while (length < count) length <<= 1;
  return length;
}

std::string SqlEventLog::numberCases(const Waiting& waiting, std::vector<Value>& params,
                                     Numbers& numbers) const {
  const std::vector<std::string>& ids = waiting.ids;
  const std::string when = std::string(" WHEN ? THEN CAST(? AS ") + integerType() + ")";
  std::string cases;
  for (size_t i = 0; i < paddedLength(ids.size()); ++i) {
    const size_t at = std::min(i, ids.size() - 1);
    const int64_t seq = waiting.head + 1 + static_cast<int64_t>(at);
    cases += when;
    params.emplace_back(ids[at]);
    params.emplace_back(seq);
    numbers[ids[at]] = static_cast<uint64_t>(seq);
  }
  return cases;
}

std::string SqlEventLog::inList(const std::vector<std::string>& ids, size_t from, size_t to,
                                std::vector<Value>& params) {
  std::string sql = " IN (";
  const size_t length = paddedLength(to - from);
  for (size_t i = 0; i < length; ++i) {
    sql += i == 0 ? "?" : ", ?";
    params.emplace_back(ids[std::min(from + i, to - 1)]);
  }
  return sql + ")";
}

void SqlEventLog::append(Connection& transaction, const std::vector<LoggedEvent>& events,
                         int64_t logged_at) {
  append2(transaction, causedByNobody(events), logged_at);
}

EventLogStorage::Numbers SqlEventLog::appendNumbered(Connection& transaction,
                                                     const std::vector<LoggedEvent>& events,
                                                     int64_t logged_at) {
  return appendNumbered2(transaction, causedByNobody(events), logged_at);
}

void SqlEventLog::append2(Connection& transaction, const std::vector<LoggedEvent2>& events,
                          int64_t logged_at) {
  // One microsecond apart: numbering goes by logged_at, so a transaction's events keep the order
  // they were dispatched in. Where the database's clock stamps, the bound value is the offset.
  const char* stamp = stampSql();
  int64_t offset = std::string(stamp) == "?" ? logged_at : 0;
  for (const auto& logged : events) {
    insertEvent(transaction, logged, std::monostate{}, offset++, stamp);
  }
}

EventLogStorage::Numbers SqlEventLog::appendNumbered2(Connection&, const std::vector<LoggedEvent2>&,
                                                      int64_t) {
  throw StorageError(
      "this backend numbers events after their commit, not inside the writer's "
      "transaction (numbering() is kAfterCommit)");
}

SqlEventLog::Waiting SqlEventLog::waiting() {
  // One statement, so one snapshot: a plain read, which waits for no lock and for no writer's
  // open transaction.
  auto rows = storage_
                  ->execute(
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

EventLogStorage::Numbers SqlEventLog::numberIfHeadUnmoved(const Waiting&) {
  throw StorageError("this backend numbers events inside the writer's transaction");
}

EventLogStorage::NumberingResult SqlEventLog::numberOldest() {
  // Another numbering that moved the head first numbered what this one read, or some of it:
  // read again and number what still waits. Each lost attempt is another's success, so the
  // numberings as a whole always progress; the attempts of one are bounded, and a caller whose
  // events are left finds them numbered or numbers them next time.
  NumberingResult numbering;
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

EventLogStorage::Numbers SqlEventLog::numbersOf(const std::vector<std::string>& ids) {
  Numbers numbers;
  for (size_t start = 0; start < ids.size(); start += kInChunk) {
    const size_t end = std::min(ids.size(), start + kInChunk);
    std::vector<Value> params;
    const std::string sql =
        "SELECT event_id, seq FROM busbar_events WHERE event_id" + inList(ids, start, end, params);
    for (const auto& row : storage_->execute(sql, params).rows) {
      if (!isNull(row.at("seq"))) numbers[asText(row.at("event_id"))] = asSeq(row.at("seq"));
    }
  }
  return numbers;
}

bool SqlEventLog::hasUnnumbered(std::chrono::microseconds waited) {
  // The age by the clock that stamped logged_at.
  const char* stamp = stampSql();
  const int64_t before = std::string(stamp) == "?"
                             ? Poco::Timestamp().epochMicroseconds() - waited.count()
                             : -waited.count();
  return !storage_
              ->execute(std::string("SELECT event_id FROM busbar_events WHERE seq IS NULL AND "
                                    "logged_at <= ") +
                            stamp + " LIMIT 1",
                        {before})
              .rows.empty();
}

int64_t SqlEventLog::clock() {
  const char* stamp = stampSql();
  if (std::string(stamp) == "?") return Poco::Timestamp().epochMicroseconds();
  // CAST: MariaDB gives the sum as a DECIMAL.
  auto rows =
      storage_
          ->execute(std::string("SELECT CAST(") + stamp + " AS " + integerType() + ") AS log_now",
                    {int64_t{0}})
          .rows;
  if (rows.empty()) throw StorageError("the database did not tell its time");
  return asInt(rows.front().at("log_now"));
}

std::map<std::string, std::string> SqlEventLog::tableIdentities() {
  std::map<std::string, std::string> identities;
  for (const Row& row : storage_->execute(tableIdentitiesSql(), {}).rows) {
    identities[asText(row.at("name"))] = asText(row.at("made"));
  }
  return identities;
}

LogHead SqlEventLog::head() {
  auto row = storage_->findOne(schema::kHead, {{"id", int64_t{1}}});
  if (!row) throw StorageError("the event log has no head row; was its migration applied?");
  return LogHead{asSeq(row->at("seq")), asText(row->at("log_id"))};
}

std::vector<LoggedEvent> SqlEventLog::readAfter(uint64_t after, size_t limit) {
  return withoutPrincipals(readAfter2(after, limit));
}

std::vector<LoggedEvent2> SqlEventLog::readAfter2(uint64_t after, size_t limit) {
  return toLoggedEvents(storage_
                            ->execute(std::string("SELECT ") + kEventColumns +
                                          " FROM busbar_events WHERE seq > ? ORDER BY seq LIMIT " +
                                          std::to_string(limit),
                                      {static_cast<int64_t>(after)})
                            .rows);
}

std::optional<std::string> SqlEventLog::eventIdAt(uint64_t seq) {
  return eventIdIn(storage_->execute("SELECT event_id FROM busbar_events WHERE seq = ?",
                                     {static_cast<int64_t>(seq)}));
}

bool SqlEventLog::contains(const std::string& event_id) {
  return !storage_->execute("SELECT event_id FROM busbar_events WHERE event_id = ?", {event_id})
              .rows.empty();
}

bool SqlEventLog::committedSettled(const std::string& event_id, int lock_wait_seconds) {
  // Tries to log the same id in a transaction of its own, which waits for the transaction that
  // may still hold it to end, then rolls back. Raised to roll the probe back when it went in.
  struct ProbeInserted {};
  bool taken = false;
  try {
    storage_->transaction([&](Connection& tx) {
      boundLockWait(tx, std::max(1, lock_wait_seconds));
      try {
        LoggedEvent2 probe;
        probe.event.id = event_id;
        probe.event.type = "Probe";
        probe.event.origin = "probe";
        insertEvent(tx, probe, std::monostate{}, 0);
      } catch (const DuplicateKey&) {
        taken = true;
      } catch (...) {
        unboundLockWait(tx);
        throw;
      }
      unboundLockWait(tx);
      if (!taken) throw ProbeInserted{};
    });
  } catch (const ProbeInserted&) {
    return false;
  }
  return taken;
}

std::optional<uint64_t> SqlEventLog::oldest() {
  return firstSeq(storage_->execute(
      "SELECT seq FROM busbar_events WHERE seq IS NOT NULL ORDER BY seq LIMIT 1"));
}

void SqlEventLog::mark(const std::vector<std::string>& event_ids, Publication state) {
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
    storage_->execute(set + "event_id" + inList(event_ids, start, end, params), params);
  }
}

std::vector<LoggedEvent> SqlEventLog::unpublished(uint64_t after, int64_t orphaned_before,
                                                  size_t limit) {
  return withoutPrincipals(unpublished2(after, orphaned_before, limit));
}

std::vector<LoggedEvent2> SqlEventLog::unpublished2(uint64_t after, int64_t orphaned_before,
                                                    size_t limit) {
  // One range of busbar_events_unpublished each, read in seq order up to the limit; the lowest
  // `limit` of both.
  const std::string select = std::string("SELECT ") + kEventColumns + " FROM busbar_events WHERE " +
                             schema::kNotConfirmed + " AND published = ? AND seq > ?";
  const std::string first = " ORDER BY seq LIMIT " + std::to_string(limit);
  auto events = toLoggedEvents(
      storage_->execute(select + first, {schema::kGivenUpMark, static_cast<int64_t>(after)}).rows);
  auto orphans = toLoggedEvents(
      storage_
          ->execute(select + " AND logged_at < ?" + first,
                    {schema::kUnconfirmedMark, static_cast<int64_t>(after), orphaned_before})
          .rows);
  events.insert(events.end(), std::make_move_iterator(orphans.begin()),
                std::make_move_iterator(orphans.end()));
  std::sort(events.begin(), events.end(),
            [](const LoggedEvent2& a, const LoggedEvent2& b) { return a.seq < b.seq; });
  if (events.size() > limit) events.resize(limit);
  return events;
}

uint64_t SqlEventLog::countUnpublished(uint64_t after) {
  auto result = storage_->execute(
      "SELECT COUNT(*) AS unpublished FROM busbar_events WHERE " +
          std::string(schema::kNotConfirmed) + " AND published IN (?, ?) AND seq > ?",
      {schema::kUnconfirmedMark, schema::kGivenUpMark, static_cast<int64_t>(after)});
  return result.rows.empty() ? 0 : asSeq(result.rows.front().at("unpublished"));
}

uint64_t SqlEventLog::prune(const LogRetention& retention, int64_t now) {
  return deleteBelow(keepFrom(retention, now), std::nullopt);
}

uint64_t SqlEventLog::prune2(const LogRetention& retention, int64_t now,
                             const RelayLeaseState& held) {
  return deleteBelow(keepFrom(retention, now), held);
}

uint64_t SqlEventLog::keepFrom(const LogRetention& retention, int64_t now) {
  const uint64_t last = head().seq;
  // The newest `events`, ...
  uint64_t keep_from = last >= retention.events ? last - retention.events + 1 : 0;
  // ... none logged before the age limit (the scan stops at the first young row), ...
  auto young = firstSeq(storage_->execute(
      "SELECT seq FROM busbar_events WHERE seq IS NOT NULL AND logged_at >= ? ORDER BY seq LIMIT 1",
      {now - retention.seconds * 1000000}));
  keep_from = std::max(keep_from, young.value_or(last + 1));
  // ... and every event from the first one no broker confirmed.
  for (int64_t mark : {schema::kUnconfirmedMark, schema::kGivenUpMark}) {
    auto unconfirmed = firstSeq(storage_->execute(
        "SELECT seq FROM busbar_events WHERE " + std::string(schema::kNotConfirmed) +
            " AND published = ? AND seq IS NOT NULL ORDER BY seq LIMIT 1",
        {mark}));
    if (unconfirmed) keep_from = std::min(keep_from, *unconfirmed);
  }
  return keep_from;
}

uint64_t SqlEventLog::deleteBelow(uint64_t keep_from, const std::optional<RelayLeaseState>& fence) {
  // keep_from holds for the log as it was read. With a fence, each delete checks in its own
  // statement that the lease is still the row the relay held: once another server took it over,
  // or a restore put back the lease row of another moment, it deletes nothing.
  std::string sql = "DELETE FROM busbar_events WHERE seq < ?";
  std::vector<Value> params{int64_t{0}};
  if (fence) {
    sql +=
        " AND EXISTS (SELECT 1 FROM busbar_event_relay WHERE id = 1 AND holder = ? AND beat = ?)";
    params.push_back(fence->holder);
    params.push_back(fence->beat);
  }
  uint64_t deleted = 0;
  for (auto from = oldest(); from && *from < keep_from;) {
    const uint64_t below = std::min(keep_from, *from + kDeleteChunk);
    params[0] = static_cast<int64_t>(below);
    const uint64_t affected = storage_->execute(sql, params).affected;
    // Numbers have no holes, so a chunk below keep_from is empty only when the lease moved on
    // (the fence refused) or another prune took it: either way the rest is the next holder's.
    if (fence && affected == 0) break;
    deleted += affected;
    from = below < keep_from ? std::optional<uint64_t>(below) : std::nullopt;
  }
  return deleted;
}

RelayLeaseState SqlEventLog::relayLease() {
  auto row = storage_->findOne(schema::kRelay, {{"id", int64_t{1}}});
  if (!row) throw StorageError("the event log has no relay row; was its migration applied?");
  return RelayLeaseState{asText(row->at("holder")), asInt(row->at("beat"))};
}

bool SqlEventLog::moveRelayLease(const std::string& holder, const RelayLeaseState& expected) {
  return storage_
             ->execute(
                 "UPDATE busbar_event_relay SET holder = ?, beat = beat + 1"
                 " WHERE id = 1 AND holder = ? AND beat = ?",
                 {holder, expected.holder, expected.beat})
             .affected == 1;
}

void SqlEventLog::releaseRelayLease(const std::string& holder) {
  storage_->execute(
      "UPDATE busbar_event_relay SET holder = ?, beat = beat + 1 WHERE id = 1 AND holder = ?",
      {std::string(), holder});
}

}  // namespace busbar::sql

#include "odbc_event_log.h"

#include <algorithm>

#include <busbar/errors.h>
#include <busbar/logged_event_row.h>

namespace odbc_storage {
namespace {

using busbar::Connection;
using busbar::LoggedEvent;
using busbar::LoggedEvent2;
using busbar::Value;

constexpr const char* kEventColumns =
    "seq, event_id, event_type, occurred_on, origin, version, payload, request_id, principal";
// The database server's clock in us since the epoch. clock_timestamp(), not now(): the time of
// the insert, not of the transaction's start, so that a later version of a row, committed after
// the earlier one's event was inserted, is stamped later and numbered after it.
constexpr const char* kServerClock =
    "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)";
// busbar_events.published (1: a broker confirmed it)
constexpr int64_t kUnconfirmed = 0;
constexpr int64_t kGivenUp = 2;
// The condition of the partial index busbar_events_unpublished, written as the index has it so
// that the planner uses it.
constexpr const char* kNotConfirmed = "published <> 1";
// Ids per IN (...) list, and rows per DELETE.
constexpr size_t kInChunk = 200;
constexpr uint64_t kDeleteChunk = 10000;

uint64_t asSeq(const Value& value) { return static_cast<uint64_t>(busbar::asInt(value)); }

std::vector<LoggedEvent2> toLoggedEvents(const std::vector<busbar::Row>& rows) {
  std::vector<LoggedEvent2> events;
  events.reserve(rows.size());
  for (const auto& row : rows) events.push_back(busbar::event_row::fromRow2(row));
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

std::optional<uint64_t> firstSeq(const busbar::ExecuteResult& result) {
  if (result.rows.empty() || busbar::isNull(result.rows.front().at("seq"))) return std::nullopt;
  return asSeq(result.rows.front().at("seq"));
}

// " IN (?, ?, ...)" for ids[from, to), their values appended to `params`.
std::string inList(const std::vector<std::string>& ids, size_t from, size_t to,
                   std::vector<Value>& params) {
  std::string sql = " IN (";
  for (size_t i = from; i < to; ++i) {
    sql += i == from ? "?" : ", ?";
    params.emplace_back(ids[i]);
  }
  return sql + ")";
}

// Logs `logged` without a number, stamped by the server's clock plus `offset` us, its principal
// with it: one more value of the one INSERT, not a statement of its own.
void insertEvent(Connection& transaction, const LoggedEvent2& logged, int64_t offset) {
  const busbar::Event& event = logged.event;
  transaction.execute(
      std::string("INSERT INTO busbar_events (event_id, seq, event_type, occurred_on, origin, "
                  "version, payload, logged_at, published, request_id, principal) VALUES (?, "
                  "NULL, ?, ?, ?, ?, ?, ") +
          kServerClock + " + ?, 0, ?, ?)",
      {event.id, event.type, event.occurred_on.epochMicroseconds(), event.origin, event.version,
       busbar::event_row::payloadText(event), offset, textOrNull(logged.request_id),
       textOrNull(logged.principal)});
}

}  // namespace

void OdbcEventLog::append(Connection& transaction, const std::vector<LoggedEvent>& events,
                          int64_t logged_at) {
  append2(transaction, causedByNobody(events), logged_at);
}

busbar::EventLogStorage::Numbers OdbcEventLog::appendNumbered(
    Connection& transaction, const std::vector<LoggedEvent>& events, int64_t logged_at) {
  return appendNumbered2(transaction, causedByNobody(events), logged_at);
}

void OdbcEventLog::append2(Connection& transaction, const std::vector<LoggedEvent2>& events,
                           int64_t) {
  // One microsecond apart: numbering goes by logged_at, so a transaction's events keep the order
  // they were dispatched in.
  int64_t offset = 0;
  for (const auto& logged : events) insertEvent(transaction, logged, offset++);
}

busbar::EventLogStorage::Numbers OdbcEventLog::appendNumbered2(Connection&,
                                                               const std::vector<LoggedEvent2>&,
                                                               int64_t) {
  throw busbar::StorageError(
      "the odbc plugin numbers events after their commit (numbering() is kAfterCommit), not "
      "inside the writer's transaction");
}

busbar::EventLogStorage::NumberingResult OdbcEventLog::numberOldest() {
  NumberingResult numbering;
  for (int attempt = 0; attempt < kCompareAndSetAttempts; ++attempt) {
    // A plain read: it waits for no lock and for no writer's open transaction.
    const auto read = storage_
                          ->execute(
                              "SELECT h.seq AS head, CASE WHEN EXISTS (SELECT 1 FROM busbar_events "
                              "WHERE seq IS NULL) THEN 1 ELSE 0 END AS waits FROM "
                              "busbar_event_head h WHERE h.id = 1",
                              {})
                          .rows;
    if (read.empty()) {
      throw busbar::StorageError("the event log has no head row; was its migration applied?");
    }
    if (busbar::asInt(read.front().at("waits")) == 0) return numbering;
    const int64_t head = busbar::asInt(read.front().at("head"));
    // The compare-and-set, in one statement of its own transaction: the head row's lock is held
    // only while the database runs it, never while it waits for this client. The events are
    // numbered only when the head, still where it was read, moved; after waiting for another
    // numbering's lock, the head's update re-checks its row as that one left it and changes
    // nothing. What waits is read from the statement's own snapshot, oldest first. The outer
    // statement is a SELECT: psqlODBC opens no cursor for an UPDATE's RETURNING rows.
    const auto rows =
        storage_
            ->execute(
                "WITH w AS (SELECT event_id, ROW_NUMBER() OVER (ORDER BY logged_at, event_id) "
                "AS n FROM (SELECT event_id, logged_at FROM busbar_events WHERE seq IS NULL "
                "ORDER BY logged_at, event_id LIMIT " +
                    std::to_string(kNumberingBatch) +
                    ") oldest), moved AS (UPDATE busbar_event_head SET seq = seq + (SELECT "
                    "COUNT(*) FROM w) WHERE id = 1 AND seq = ? AND EXISTS (SELECT 1 FROM w) "
                    "RETURNING seq), numbered AS (UPDATE busbar_events e SET seq = ? + w.n FROM "
                    "w WHERE e.event_id = w.event_id AND e.seq IS NULL AND EXISTS (SELECT 1 FROM "
                    "moved) RETURNING e.event_id, e.seq) SELECT event_id, seq FROM numbered",
                {head, head})
            .rows;
    if (rows.empty()) continue;  // another numbering moved the head first: read again
    for (const auto& row : rows) {
      numbering.numbers[busbar::asText(row.at("event_id"))] = asSeq(row.at("seq"));
    }
    numbering.more = rows.size() == kNumberingBatch;
    return numbering;
  }
  return numbering;
}

busbar::EventLogStorage::Numbers OdbcEventLog::numbersOf(const std::vector<std::string>& ids) {
  Numbers numbers;
  for (size_t start = 0; start < ids.size(); start += kInChunk) {
    std::vector<Value> params;
    const std::string sql =
        "SELECT event_id, seq FROM busbar_events WHERE seq IS NOT NULL AND event_id" +
        inList(ids, start, std::min(ids.size(), start + kInChunk), params);
    for (const auto& row : storage_->execute(sql, params).rows) {
      numbers[busbar::asText(row.at("event_id"))] = asSeq(row.at("seq"));
    }
  }
  return numbers;
}

bool OdbcEventLog::hasUnnumbered(std::chrono::microseconds waited) {
  return !storage_
              ->execute(std::string("SELECT event_id FROM busbar_events WHERE seq IS NULL AND "
                                    "logged_at <= ") +
                            kServerClock + " - ? LIMIT 1",
                        {static_cast<int64_t>(waited.count())})
              .rows.empty();
}

int64_t OdbcEventLog::clock() {
  const auto rows =
      storage_->execute(std::string("SELECT ") + kServerClock + " AS log_now", {}).rows;
  if (rows.empty()) throw busbar::StorageError("the database did not tell its time");
  return busbar::asInt(rows.front().at("log_now"));
}

std::map<std::string, std::string> OdbcEventLog::tableIdentities() {
  // The object's oid and its file: a table dropped and made again has new ones, and so do
  // TRUNCATE, VACUUM FULL and a rewriting ALTER (a reload more); row changes keep them.
  std::map<std::string, std::string> identities;
  const auto rows =
      storage_
          ->execute(
              "SELECT c.relname AS name, CAST(c.oid AS TEXT) || '/' || CAST(c.relfilenode AS "
              "TEXT) AS made FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
              "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'i')",
              {})
          .rows;
  for (const auto& row : rows)
    identities[busbar::asText(row.at("name"))] = busbar::asText(row.at("made"));
  return identities;
}

busbar::LogHead OdbcEventLog::head() {
  auto row = storage_->findOne("busbar_event_head", {{"id", int64_t{1}}});
  if (!row) throw busbar::StorageError("the event log has no head row; was its migration applied?");
  return busbar::LogHead{asSeq(row->at("seq")), busbar::asText(row->at("log_id"))};
}

std::vector<LoggedEvent> OdbcEventLog::readAfter(uint64_t after, size_t limit) {
  return withoutPrincipals(readAfter2(after, limit));
}

std::vector<LoggedEvent2> OdbcEventLog::readAfter2(uint64_t after, size_t limit) {
  return toLoggedEvents(storage_
                            ->execute(std::string("SELECT ") + kEventColumns +
                                          " FROM busbar_events WHERE seq > ? ORDER BY seq LIMIT " +
                                          std::to_string(limit),
                                      {static_cast<int64_t>(after)})
                            .rows);
}

std::optional<std::string> OdbcEventLog::eventIdAt(uint64_t seq) {
  const auto rows =
      storage_
          ->execute("SELECT event_id FROM busbar_events WHERE seq = ?", {static_cast<int64_t>(seq)})
          .rows;
  if (rows.empty()) return std::nullopt;
  return busbar::asText(rows.front().at("event_id"));
}

bool OdbcEventLog::contains(const std::string& event_id) {
  return !storage_->execute("SELECT event_id FROM busbar_events WHERE event_id = ?", {event_id})
              .rows.empty();
}

bool OdbcEventLog::committedSettled(const std::string& event_id, int lock_wait_seconds) {
  // Logs the same id again in a transaction of its own: the insert waits for the transaction that
  // may still hold the id (at most lock_timeout), then finds it committed (a duplicate key) or
  // goes through (it was not, and the probe is rolled back, leaving nothing).
  struct ProbeInserted {};
  bool taken = false;
  try {
    storage_->transaction([&](Connection& tx) {
      // SET LOCAL: for this transaction only.
      tx.execute("SET LOCAL lock_timeout = '" + std::to_string(std::max(1, lock_wait_seconds)) +
                 "s'");
      try {
        LoggedEvent2 probe;
        probe.event.id = event_id;
        probe.event.type = "Probe";
        probe.event.origin = "probe";
        insertEvent(tx, probe, 0);
      } catch (const busbar::DuplicateKey&) {
        taken = true;
      }
      if (!taken) throw ProbeInserted{};
    });
  } catch (const ProbeInserted&) {
    return false;
  }
  return taken;
}

std::optional<uint64_t> OdbcEventLog::oldest() {
  return firstSeq(storage_->execute(
      "SELECT seq FROM busbar_events WHERE seq IS NOT NULL ORDER BY seq LIMIT 1", {}));
}

void OdbcEventLog::mark(const std::vector<std::string>& event_ids, Publication state) {
  // A confirm always wins; giving up only marks an event nobody confirmed.
  const std::string set = state == Publication::kConfirmed
                              ? "UPDATE busbar_events SET published = 1 WHERE "
                              : "UPDATE busbar_events SET published = 2 WHERE published = 0 AND ";
  for (size_t start = 0; start < event_ids.size(); start += kInChunk) {
    std::vector<Value> params;
    storage_->execute(
        set + "event_id" +
            inList(event_ids, start, std::min(event_ids.size(), start + kInChunk), params),
        params);
  }
}

std::vector<LoggedEvent> OdbcEventLog::unpublished(uint64_t after, int64_t orphaned_before,
                                                   size_t limit) {
  return withoutPrincipals(unpublished2(after, orphaned_before, limit));
}

std::vector<LoggedEvent2> OdbcEventLog::unpublished2(uint64_t after, int64_t orphaned_before,
                                                     size_t limit) {
  // Those given up, and those never confirmed that were logged before `orphaned_before`: one
  // range of the partial index each, the lowest `limit` of both.
  const std::string select = std::string("SELECT ") + kEventColumns + " FROM busbar_events WHERE " +
                             kNotConfirmed + " AND published = ? AND seq > ?";
  const std::string first = " ORDER BY seq LIMIT " + std::to_string(limit);
  auto events = toLoggedEvents(
      storage_->execute(select + first, {kGivenUp, static_cast<int64_t>(after)}).rows);
  auto orphans =
      toLoggedEvents(storage_
                         ->execute(select + " AND logged_at < ?" + first,
                                   {kUnconfirmed, static_cast<int64_t>(after), orphaned_before})
                         .rows);
  events.insert(events.end(), std::make_move_iterator(orphans.begin()),
                std::make_move_iterator(orphans.end()));
  std::sort(events.begin(), events.end(),
            [](const LoggedEvent2& a, const LoggedEvent2& b) { return a.seq < b.seq; });
  if (events.size() > limit) events.resize(limit);
  return events;
}

uint64_t OdbcEventLog::countUnpublished(uint64_t after) {
  const auto rows = storage_
                        ->execute(std::string("SELECT COUNT(*) AS unpublished FROM busbar_events "
                                              "WHERE ") +
                                      kNotConfirmed + " AND published IN (?, ?) AND seq > ?",
                                  {kUnconfirmed, kGivenUp, static_cast<int64_t>(after)})
                        .rows;
  return rows.empty() ? 0 : asSeq(rows.front().at("unpublished"));
}

uint64_t OdbcEventLog::prune(const busbar::LogRetention& retention, int64_t now) {
  return deleteBelow(keepFrom(retention, now), std::nullopt);
}

uint64_t OdbcEventLog::prune2(const busbar::LogRetention& retention, int64_t now,
                              const busbar::RelayLeaseState& held) {
  return deleteBelow(keepFrom(retention, now), held);
}

uint64_t OdbcEventLog::keepFrom(const busbar::LogRetention& retention, int64_t now) {
  const uint64_t last = head().seq;
  // Keep seq >= keep_from: the newest `events`, ...
  uint64_t keep_from = last >= retention.events ? last - retention.events + 1 : 0;
  // ... none logged before the age limit, ...
  const auto young = firstSeq(storage_->execute(
      "SELECT seq FROM busbar_events WHERE seq IS NOT NULL AND logged_at >= ? ORDER BY seq LIMIT 1",
      {now - retention.seconds * 1000000}));
  keep_from = std::max(keep_from, young.value_or(last + 1));
  // ... and every event from the first one no broker confirmed.
  for (int64_t mark : {kUnconfirmed, kGivenUp}) {
    const auto unconfirmed = firstSeq(
        storage_->execute(std::string("SELECT seq FROM busbar_events WHERE ") + kNotConfirmed +
                              " AND published = ? AND seq IS NOT NULL ORDER BY seq LIMIT 1",
                          {mark}));
    if (unconfirmed) keep_from = std::min(keep_from, *unconfirmed);
  }
  return keep_from;
}

uint64_t OdbcEventLog::deleteBelow(uint64_t keep_from,
                                   const std::optional<busbar::RelayLeaseState>& fence) {
  // Below one number, in chunks, so that no hole opens and no statement runs long; with a fence,
  // each delete only while the relay lease is still the row the relay held.
  std::string sql = "DELETE FROM busbar_events WHERE seq < ?";
  std::vector<busbar::Value> params{int64_t{0}};
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
    if (fence && affected == 0) break;  // the lease moved on: the rest is the next holder's
    deleted += affected;
    from = below < keep_from ? std::optional<uint64_t>(below) : std::nullopt;
  }
  return deleted;
}

busbar::RelayLeaseState OdbcEventLog::relayLease() {
  auto row = storage_->findOne("busbar_event_relay", {{"id", int64_t{1}}});
  if (!row)
    throw busbar::StorageError("the event log has no relay row; was its migration applied?");
  return busbar::RelayLeaseState{busbar::asText(row->at("holder")), busbar::asInt(row->at("beat"))};
}

bool OdbcEventLog::moveRelayLease(const std::string& holder,
                                  const busbar::RelayLeaseState& expected) {
  return storage_
             ->execute(
                 "UPDATE busbar_event_relay SET holder = ?, beat = beat + 1 WHERE id = 1 AND "
                 "holder = ? AND beat = ?",
                 {holder, expected.holder, expected.beat})
             .affected == 1;
}

void OdbcEventLog::releaseRelayLease(const std::string& holder) {
  storage_->execute(
      "UPDATE busbar_event_relay SET holder = ?, beat = beat + 1 WHERE id = 1 AND holder = ?",
      {std::string(), holder});
}

}  // namespace odbc_storage

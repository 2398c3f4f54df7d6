#include "events/event_log.h"

#include <algorithm>
#include <sstream>

#include <Poco/JSON/Parser.h>
#include <Poco/UUIDGenerator.h>

#include "busbar/errors.h"

namespace busbar::host {
namespace {

constexpr const char* kEvents = "busbar_events";
constexpr const char* kHead = "busbar_event_head";
constexpr const char* kRelay = "busbar_event_relay";
constexpr const char* kEventColumns =
    "seq, event_id, event_type, occurred_on, origin, version, payload";
// Rows per statement when a list of sequence numbers is sent as IN (...), and per DELETE.
constexpr size_t kInChunk = 200;
constexpr uint64_t kDeleteChunk = 10000;

uint64_t asSeq(const Value& value) { return static_cast<uint64_t>(asInt(value)); }

std::string payloadText(const Event& event) {
  if (!event.payload) return "{}";
  std::ostringstream out;
  event.payload->stringify(out);
  return out.str();
}

LoggedEvent toLoggedEvent(const Row& row) {
  LoggedEvent logged;
  logged.seq = asSeq(row.at("seq"));
  Event& event = logged.event;
  event.id = asText(row.at("event_id"));
  event.type = asText(row.at("event_type"));
  event.occurred_on = Poco::Timestamp(asInt(row.at("occurred_on")));
  event.origin = asText(row.at("origin"));
  event.version = asInt(row.at("version"));
  try {
    Poco::JSON::Parser parser;
    event.payload = parser.parse(asText(row.at("payload"))).extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception& error) {
    // Only busbar writes this column, from a JSON object; anything else is a damaged row.
    throw StorageError("the event log's row " + std::to_string(logged.seq) +
                       " has a payload that is not a JSON object: " + error.what());
  }
  return logged;
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

Migration createTables() {
  Migration migration;
  migration.number = 1;
  migration.description = "create the event log (busbar_events, busbar_event_head, relay lease)";
  migration.apply = [](Connection& connection) {
    TableSchema events;
    events.name = kEvents;
    events.columns = {{"seq", ColumnType::kInteger, 0, false},
                      {"event_id", ColumnType::kText, 36, false},
                      {"event_type", ColumnType::kText, 128, false},
                      {"occurred_on", ColumnType::kInteger, 0, false},
                      {"origin", ColumnType::kText, 255, false},
                      {"version", ColumnType::kInteger, 0, false},
                      {"payload", ColumnType::kText, 0, false},
                      {"logged_at", ColumnType::kInteger, 0, false},
                      {"published", ColumnType::kInteger, 0, false}};
    events.primary_key = {"seq"};
    connection.createTable(events);

    TableSchema head;
    head.name = kHead;
    head.columns = {{"id", ColumnType::kInteger, 0, false},
                    {"seq", ColumnType::kInteger, 0, false},
                    {"log_id", ColumnType::kText, 36, false}};
    head.primary_key = {"id"};
    connection.createTable(head);
    connection.insert(
        kHead, {{"id", int64_t{1}},
                {"seq", int64_t{0}},
                {"log_id", Poco::UUIDGenerator::defaultGenerator().createRandom().toString()}});

    TableSchema relay;
    relay.name = kRelay;
    relay.columns = {{"id", ColumnType::kInteger, 0, false},
                     {"holder", ColumnType::kText, 255, false},
                     {"beat", ColumnType::kInteger, 0, false}};
    relay.primary_key = {"id"};
    connection.createTable(relay);
    connection.insert(kRelay,
                      {{"id", int64_t{1}}, {"holder", std::string()}, {"beat", int64_t{0}}});
  };
  return migration;
}

}  // namespace

std::vector<Migration> EventLog::migrations() { return {createTables()}; }

uint64_t EventLog::append(Connection& transaction, const std::vector<Event>& events,
                          int64_t logged_at) {
  if (events.empty()) throw StorageError("EventLog::append needs at least one event");
  const auto count = static_cast<int64_t>(events.size());
  transaction.execute("UPDATE busbar_event_head SET seq = seq + ? WHERE id = 1", {count});
  auto head = transaction.findOne(kHead, {{"id", int64_t{1}}});
  if (!head) throw StorageError("the event log has no head row; was its migration applied?");
  const uint64_t first = asSeq(head->at("seq")) - static_cast<uint64_t>(count) + 1;
  uint64_t seq = first;
  for (const auto& event : events) {
    transaction.insert(kEvents, {{"seq", static_cast<int64_t>(seq++)},
                                 {"event_id", event.id},
                                 {"event_type", event.type},
                                 {"occurred_on", event.occurred_on.epochMicroseconds()},
                                 {"origin", event.origin},
                                 {"version", event.version},
                                 {"payload", payloadText(event)},
                                 {"logged_at", logged_at},
                                 {"published", int64_t{0}}});
  }
  return first;
}

LogHead EventLog::head() {
  auto row = storage_.findOne(kHead, {{"id", int64_t{1}}});
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

std::optional<std::string> EventLog::eventIdAtSettled(uint64_t seq, int lock_wait_seconds) {
  std::optional<std::string> found;
  const std::string driver = storage_.driver();
  storage_.transaction([&](Connection& tx) {
    // Bound the wait for a transaction that still holds the head row (only where the backend
    // has a per-transaction or per-session setting; SQLite's busy timeout bounds it there).
    const std::string wait = std::to_string(std::max(1, lock_wait_seconds));
    if (driver == "postgresql") tx.execute("SET LOCAL lock_timeout = '" + wait + "s'");
    if (driver == "mysql") tx.execute("SET SESSION innodb_lock_wait_timeout = " + wait);
    try {
      tx.execute("UPDATE busbar_event_head SET seq = seq WHERE id = 1");
    } catch (...) {
      if (driver == "mysql") tx.execute("SET SESSION innodb_lock_wait_timeout = DEFAULT");
      throw;
    }
    if (driver == "mysql") tx.execute("SET SESSION innodb_lock_wait_timeout = DEFAULT");
    found = eventIdIn(tx.execute("SELECT event_id FROM busbar_events WHERE seq = ?",
                                 {static_cast<int64_t>(seq)}));
  });
  return found;
}

std::optional<uint64_t> EventLog::oldest() {
  return firstSeq(storage_.execute("SELECT seq FROM busbar_events ORDER BY seq LIMIT 1"));
}

void EventLog::mark(const std::vector<LogPosition>& events, Publication state) {
  // A confirm always wins; giving up only marks an event nobody confirmed.
  const std::string set = state == Publication::kConfirmed
                              ? "UPDATE busbar_events SET published = 1 WHERE "
                              : "UPDATE busbar_events SET published = 2 WHERE published = 0 AND ";
  for (size_t start = 0; start < events.size(); start += kInChunk) {
    const size_t end = std::min(events.size(), start + kInChunk);
    std::string sql = set + "(seq, event_id) IN (";
    std::vector<Value> params;
    for (size_t i = start; i < end; ++i) {
      sql += i == start ? "(?, ?)" : ", (?, ?)";
      params.emplace_back(static_cast<int64_t>(events[i].seq));
      params.emplace_back(events[i].event_id);
    }
    storage_.execute(sql + ")", params);
  }
}

std::vector<LoggedEvent> EventLog::unpublished(uint64_t after, int64_t orphaned_before,
                                               size_t limit) {
  return toLoggedEvents(
      storage_
          .execute(std::string("SELECT ") + kEventColumns +
                       " FROM busbar_events WHERE seq > ? AND"
                       " (published = 2 OR (published = 0 AND logged_at < ?))"
                       " ORDER BY seq LIMIT " +
                       std::to_string(limit),
                   {static_cast<int64_t>(after), orphaned_before})
          .rows);
}

uint64_t EventLog::countUnpublished(uint64_t after) {
  auto result = storage_.execute(
      "SELECT COUNT(*) AS unpublished FROM busbar_events WHERE seq > ? AND published <> 1",
      {static_cast<int64_t>(after)});
  return result.rows.empty() ? 0 : asSeq(result.rows.front().at("unpublished"));
}

uint64_t EventLog::prune(const Retention& retention, int64_t now) {
  const uint64_t last = head().seq;
  // Keep seq >= keep_from: the newest `events`, ...
  uint64_t keep_from = last >= retention.events ? last - retention.events + 1 : 0;
  // ... none logged before the age limit (the scan stops at the first young row), ...
  auto young = firstSeq(
      storage_.execute("SELECT seq FROM busbar_events WHERE logged_at >= ? ORDER BY seq LIMIT 1",
                       {now - retention.seconds * 1000000}));
  keep_from = std::max(keep_from, young.value_or(last + 1));
  // ... and every event from the first one no broker confirmed.
  auto unconfirmed = firstSeq(
      storage_.execute("SELECT seq FROM busbar_events WHERE published <> 1 ORDER BY seq LIMIT 1"));
  if (unconfirmed) keep_from = std::min(keep_from, *unconfirmed);

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

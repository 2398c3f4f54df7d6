// The event log's migrations (recorded under kEventLogMigrationModule), in the order they apply.
#include <Poco/UUIDGenerator.h>

#include "sql_event_log.h"
#include "sql_event_log_schema.h"

namespace busbar::sql {
namespace {

using schema::kEvents;
using schema::kHead;
using schema::kRelay;

Migration createTables() {
  Migration migration;
  migration.number = 1;
  migration.description = "create the event log (busbar_events, busbar_event_head, relay lease)";
  migration.apply = [](Connection& connection) {
    TableSchema events;
    events.name = kEvents;
    events.columns = {{"event_id", ColumnType::kText, 36, false},
                      {"seq", ColumnType::kInteger, 0, true},
                      {"event_type", ColumnType::kText, 128, false},
                      {"occurred_on", ColumnType::kInteger, 0, false},
                      {"origin", ColumnType::kText, 255, false},
                      {"version", ColumnType::kInteger, 0, false},
                      {"payload", ColumnType::kText, 0, false},
                      {"logged_at", ColumnType::kInteger, 0, false},
                      {"published", ColumnType::kInteger, 0, false}};
    events.primary_key = {"event_id"};
    connection.createTable(events);
    // Readers go by number; NULLs (not numbered yet) may repeat on every backend.
    connection.execute("CREATE UNIQUE INDEX busbar_events_seq ON busbar_events (seq)");

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

Migration addRequestId() {
  Migration migration;
  migration.number = 2;
  migration.description = "busbar_events.request_id: the HTTP request that emitted each event";
  migration.apply = [](Connection& connection) {
    // VARCHAR(64) is text on SQLite, MariaDB and PostgreSQL alike; rows logged before it are NULL.
    connection.execute("ALTER TABLE busbar_events ADD COLUMN request_id VARCHAR(64)");
  };
  return migration;
}

Migration indexUnpublished(std::string index_sql) {
  Migration migration;
  migration.number = 3;
  migration.description =
      "busbar_events_unpublished: the relay finds unconfirmed events without a scan of the log";
  // By the seq index alone the relay's look for unconfirmed events read every row of the log:
  // tens of seconds of the database's time per look at a million events.
  migration.apply = [index_sql](Connection& connection) { connection.execute(index_sql); };
  return migration;
}

// Databases made before SDK 1.3 have number 4 recorded for busbar_parked_events, which the host
// now creates under a module of its own; the number stays taken so that both kinds of database
// agree on what comes next.
Migration parkedEventsMovedToTheHost() {
  Migration migration;
  migration.number = 4;
  migration.description = "(busbar_parked_events: now the host's module busbar_parking_lot)";
  migration.apply = [](Connection&) {};
  return migration;
}

Migration addPrincipal() {
  Migration migration;
  migration.number = 5;
  migration.description = "busbar_events.principal: who caused each event (SDK 1.6)";
  migration.apply = [](Connection& connection) {
    // VARCHAR(255) is text on SQLite, MariaDB and PostgreSQL alike (a token's name is short).
    // A nullable column without a default is added to the table's description alone on all
    // three, not written into every row, so a long log migrates at once; rows logged before it
    // are NULL: caused by nobody.
    connection.execute("ALTER TABLE busbar_events ADD COLUMN principal VARCHAR(255)");
  };
  return migration;
}

}  // namespace

std::vector<Migration> SqlEventLog::migrations() {
  return {createTables(), addRequestId(), indexUnpublished(unpublishedIndexSql()),
          parkedEventsMovedToTheHost(), addPrincipal()};
}

}  // namespace busbar::sql

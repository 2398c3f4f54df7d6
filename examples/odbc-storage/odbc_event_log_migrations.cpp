// The event log's migrations, recorded by the host under OdbcEventLog::migrationModule()
// ("odbc_storage_event_log"), numbered from 1. A migration once released never changes; a change to
// the log's tables is a new migration with the next number.
#include <Poco/UUIDGenerator.h>

#include "odbc_event_log.h"

namespace odbc_storage {
namespace {

busbar::Migration createTables() {
  busbar::Migration migration;
  migration.number = 1;
  migration.description = "create the event log (busbar_events, busbar_event_head, relay lease)";
  migration.apply = [](busbar::Connection& connection) {
    connection.execute(
        "CREATE TABLE busbar_events (event_id VARCHAR(36) COLLATE \"C\" NOT NULL PRIMARY KEY, "
        "seq BIGINT NULL, event_type VARCHAR(128) COLLATE \"C\" NOT NULL, occurred_on BIGINT NOT "
        "NULL, origin VARCHAR(255) COLLATE \"C\" NOT NULL, version BIGINT NOT NULL, payload TEXT "
        "COLLATE \"C\" NOT NULL, logged_at BIGINT NOT NULL, published BIGINT NOT NULL, "
        "request_id VARCHAR(64) COLLATE \"C\" NULL)");
    // Readers go by number; NULLs (not numbered yet) may repeat.
    connection.execute("CREATE UNIQUE INDEX busbar_events_seq ON busbar_events (seq)");
    // Numbering finds the oldest events without a number without reading the numbered ones.
    connection.execute(
        "CREATE INDEX busbar_events_unnumbered ON busbar_events (logged_at, event_id) WHERE seq "
        "IS NULL");
    // The relay finds unconfirmed events (a few, in flight) without a scan of the log.
    connection.execute(
        "CREATE INDEX busbar_events_unpublished ON busbar_events (seq) WHERE published <> 1");
    connection.execute(
        "CREATE TABLE busbar_event_head (id BIGINT NOT NULL PRIMARY KEY, seq BIGINT NOT NULL, "
        "log_id VARCHAR(36) COLLATE \"C\" NOT NULL)");
    // The log's identity: a database restored from a dump keeps it, a new one has another.
    connection.execute("INSERT INTO busbar_event_head (id, seq, log_id) VALUES (1, 0, ?)",
                       {Poco::UUIDGenerator::defaultGenerator().createRandom().toString()});
    connection.execute(
        "CREATE TABLE busbar_event_relay (id BIGINT NOT NULL PRIMARY KEY, holder VARCHAR(255) "
        "COLLATE \"C\" NOT NULL, beat BIGINT NOT NULL)");
    connection.execute("INSERT INTO busbar_event_relay (id, holder, beat) VALUES (1, '', 0)");
  };
  return migration;
}

busbar::Migration addPrincipal() {
  busbar::Migration migration;
  migration.number = 2;
  migration.description = "busbar_events.principal: who caused each event (SDK 1.6)";
  migration.apply = [](busbar::Connection& connection) {
    // Nullable, without a default: PostgreSQL adds it to the table's description alone, not to
    // every row, so a long log migrates at once; rows logged before it are NULL (caused by
    // nobody). A token's name is short.
    connection.execute(
        "ALTER TABLE busbar_events ADD COLUMN principal VARCHAR(255) COLLATE \"C\" NULL");
  };
  return migration;
}

}  // namespace

std::vector<busbar::Migration> OdbcEventLog::migrations() {
  return {createTables(), addPrincipal()};
}

}  // namespace odbc_storage

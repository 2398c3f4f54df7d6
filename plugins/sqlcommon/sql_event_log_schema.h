// The event log's tables, as SqlEventLog's migrations create them: their names, and the values of
// busbar_events.published. Shared by SqlEventLog's statements and its migrations.
#pragma once

#include <cstdint>

namespace busbar::sql::schema {

constexpr const char* kEvents = "busbar_events";
constexpr const char* kHead = "busbar_event_head";    // one row: the last seq given, the log's id
constexpr const char* kRelay = "busbar_event_relay";  // one row: the relay lease

// busbar_events.published: what became of an event's publication. Only the rows not confirmed
// are in the ranges of busbar_events_unpublished that the relay reads.
constexpr int64_t kUnconfirmedMark = 0;  // no broker has confirmed it yet
constexpr int64_t kConfirmedMark = 1;
constexpr int64_t kGivenUpMark = 2;  // its publisher dropped it: the relay publishes it at once
// The condition of busbar_events_unpublished's rows where it is a partial index (SQLite,
// PostgreSQL); a look that is to use it carries this term as written here.
constexpr const char* kNotConfirmed = "published <> 1";

}  // namespace busbar::sql::schema

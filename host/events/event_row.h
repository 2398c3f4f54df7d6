// One logged event as a row: the columns busbar_events holds for it (event_id, seq, event_type,
// occurred_on, origin, version, payload as JSON text, request_id, NULL without one), which the
// tables that keep a copy of an event (busbar_parked_events) hold too.
#pragma once

#include <string>

#include "busbar/storage.h"
#include "events/event_log.h"

namespace busbar::host {

// The event's payload as the JSON text the payload column holds ("{}" without one).
std::string payloadText(const Event& event);

// The event's columns, seq and request_id included.
Row eventRow(const LoggedEvent& logged);

// The event in `row`, which holds the columns eventRow() gives. On a payload that is not a JSON
// object throws StorageError (only busbar writes the column: the row is damaged).
LoggedEvent toLoggedEvent(const Row& row);

}  // namespace busbar::host

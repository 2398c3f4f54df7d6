// The admin listener's routes over the parking lot (events/parking_lot.h): the events this
// server's subscribers failed on, kept until an operator replays or drops them.
//
//   GET    /admin/events/parked                    {"count","unsaved","parked":[event...]}
//   POST   /admin/events/parked/replay             every parked event, oldest seq first
//   POST   /admin/events/parked/{event_id}/replay  one; 404 when it is not parked
//   DELETE /admin/events/parked/{event_id}         drops one without delivering it; 404 likewise
//
// A replay answers {"delivered":[ids],"still_parked":[event...]}, 200 whatever became of each
// (still_parked says why). They read and write the database: they run on the [http] workers.
// Routes are added during init, from one thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "busbar/http.h"
#include "events/parking_lot.h"

namespace busbar::host {

// Delivers the parked events `event_ids` again (all when empty).
using ReplayParked = std::function<ParkingLot::ReplayOutcome(const std::vector<std::string>&)>;

void addParkedEventRoutes(Routes& routes, ParkingLot& lot, ReplayParked replay);

}  // namespace busbar::host

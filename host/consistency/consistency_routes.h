// The admin listener's routes over the consistency observer (consistency_observer.h):
//
//   GET  /admin/consistency   the observer's settings and figures per table
//   POST /admin/consistency?rows_per_second=N&full_pass_seconds=S
//                             changes the pace until the next start (either or both); 400
//                             naming the parameter when a value is not a number in range
//
// Both answer the figures after the change. They never block. Added during init, from one thread.
#pragma once

#include "busbar/http.h"
#include "consistency/consistency_observer.h"

namespace busbar::host {

void addConsistencyRoutes(Routes& routes, HostConsistencyObserver& observer);

}  // namespace busbar::host

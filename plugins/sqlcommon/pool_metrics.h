// The database pool's figures as metrics, for the SQL storage plugins: sessions in use, open and
// at most, requests that waited for a busy pool, and errors by kind (a session that could not be
// opened, a wait that gave up, a session found broken).
#pragma once

#include "busbar/metrics.h"
#include "poco_data_connection.h"

namespace busbar::sql {

// Exports the pool of `connection` through `metrics` (busbar_db_pool_*); during the plugin's
// init. `connection` must outlive the plugin's stop().
void exportPoolMetrics(MetricsRegistry& metrics, const PocoDataConnection& connection);

}  // namespace busbar::sql

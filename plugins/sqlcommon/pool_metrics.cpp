#include "pool_metrics.h"

namespace busbar::sql {

void exportPoolMetrics(MetricsRegistry& metrics, const PocoDataConnection& connection) {
  const PocoDataConnection* pool = &connection;
  metrics.gaugeReader("busbar_db_pool_sessions_in_use",
                      "Database sessions lent to a statement or transaction now", {},
                      [pool] { return static_cast<double>(pool->poolStats().in_use); });
  metrics.gaugeReader("busbar_db_pool_sessions_open",
                      "Database sessions open now, lent, idle or being opened", {},
                      [pool] { return static_cast<double>(pool->poolStats().open); });
  metrics.gaugeReader("busbar_db_pool_sessions_max",
                      "The most database sessions the pool opens ([storage] pool.max)", {},
                      [pool] { return static_cast<double>(pool->poolStats().max); });
  metrics.counterReader("busbar_db_pool_waits_total",
                        "Requests for a database session that waited because every one was lent",
                        {}, [pool] { return static_cast<double>(pool->poolStats().waits); });
  const std::string errors_help =
      "Database pool errors, by kind: connect (a session could not be opened), timeout (a "
      "request waited connect_timeout for a session and gave up), broken (a session failed and "
      "was closed)";
  metrics.counterReader("busbar_db_pool_errors_total", errors_help, {{"kind", "connect"}},
                        [pool] { return static_cast<double>(pool->poolStats().open_failures); });
  metrics.counterReader("busbar_db_pool_errors_total", errors_help, {{"kind", "timeout"}},
                        [pool] { return static_cast<double>(pool->poolStats().wait_timeouts); });
  metrics.counterReader("busbar_db_pool_errors_total", errors_help, {{"kind", "broken"}},
                        [pool] { return static_cast<double>(pool->poolStats().broken); });
  metrics.counterReader(
      "busbar_db_pool_sessions_retired_total",
      "Database sessions closed when given back because another session broke after they were "
      "opened (they most likely lost their server too)",
      {}, [pool] { return static_cast<double>(pool->poolStats().retired); });
}

}  // namespace busbar::sql

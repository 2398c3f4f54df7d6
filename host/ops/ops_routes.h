// The operators' routes. On both listeners, never blocking (they read what other threads keep,
// never the database): GET /metrics (Prometheus text 0.0.4), GET /livez, GET /readyz (200, or 503
// naming each failing check) and GET /health (the same checks with the event figures, always
// 200). On the admin listener only: GET /admin (its routes), POST /admin/metrics/reset[?metric=],
// POST /admin/resync, GET /admin/plugins and GET /admin/config (secrets masked); GET /admin lists
// those and the admin routes added elsewhere (parked_event_routes.h).
//
// Who may call them (RouteAccess): the probes anyone, /metrics a caller of scope "read" (open while
// [http] open_reads is true), the admin routes one of scope "admin" (the admin listener's default).
//
// Routes are added during init, from one thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "busbar/http.h"
#include "ops/liveness_monitor.h"
#include "ops/metrics_registry.h"
#include "ops/readiness.h"

namespace busbar::host {

// What the probe routes read.
struct ProbeSources {
  HostMetricsRegistry& metrics;
  const Readiness& readiness;
  const LivenessMonitor& liveness;
  std::string server_id;
  // The figures /health adds to the checks: "events" and "event_log".
  std::function<void(Poco::JSON::Object& body)> health_figures;
};

// What the admin routes act on.
struct AdminActions {
  HostMetricsRegistry& metrics;
  // Asks for a resynchronization of the caches, logging `why`.
  std::function<void(const std::string& why)> resync;
  std::function<Poco::JSON::Array::Ptr()> plugins;
  std::function<Poco::JSON::Object::Ptr()> config;
  // Routes added elsewhere on the admin listener, for GET /admin's list ("METHOD /path").
  std::vector<std::string> more_routes;
};

void addProbeRoutes(Routes& routes, const ProbeSources& sources);
void addAdminRoutes(Routes& routes, const AdminActions& actions);

}  // namespace busbar::host

// The host's operations surface: its metrics, readiness checks, /health's description of the
// process and plugins, and the probe and admin routes (docs/operations.md).
#include <unistd.h>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/Timestamp.h>

#include "consistency/consistency_routes.h"
#include "host.h"
#include "ops/config_report.h"
#include "ops/ops_routes.h"
#include "ops/parked_event_routes.h"

namespace busbar::host {

void Host::registerMetrics() {
  metrics_.addCollector(http_metrics_);
  metrics_.addCollector(event_metrics_);
  metrics_.addCollector(readiness_);
  metrics_.addCollector(process_metrics_);
}

void Host::registerInfoMetrics() {
  const std::string abi = std::to_string(BUSBAR_ABI_MAJOR) + "." + std::to_string(BUSBAR_ABI_MINOR);
  metrics_.gaugeReader(
      "busbar_build_info", "1, labelled with this busbar's version, plugin ABI and build signature",
      {{"version", BUSBAR_VERSION}, {"abi", abi}, {"build_signature", BUSBAR_BUILD_SIGNATURE}},
      [] { return 1.0; });
  for (const auto& instance : instances_) {
    const auto* descriptor = instance.loaded.descriptor;
    metrics_.gaugeReader("busbar_plugin_info", "1 per loaded plugin, labelled with what it is",
                         {{"name", instance.loaded.name},
                          {"kind", kindName(descriptor->kind)},
                          {"version", descriptor->version}},
                         [] { return 1.0; });
  }
  // Reloads count across the processes of one service: each hands its counts to the next.
  for (const char* result : {"ok", "failed", "timed_out"}) {
    metrics_.counterReader(
        "busbar_reloads_total",
        "Reloads (SIGHUP) of this server by their result: ok (a new process took over), failed "
        "(it exited or said why), timed_out ([host] reload_timeout_seconds)",
        {{"result", result}}, [this, result = std::string(result)] {
          const ReloadHistory history = reloadHistory();
          return static_cast<double>(result == "ok"       ? history.succeeded
                                     : result == "failed" ? history.failed
                                                          : history.timed_out);
        });
  }
  metrics_.gaugeReader("busbar_last_reload_timestamp_seconds",
                       "When the last reload that succeeded ended (Unix time); 0 before any", {},
                       [this] { return static_cast<double>(reloadHistory().last_unix_seconds); });
}

void Host::addReadinessChecks() {
  readiness_.add("storage_reachable",
                 [this] { return storage_probe_ ? storage_probe_->problem() : std::string(); });
  readiness_.add("transport_connected", [this] {
    return transport_health_ != nullptr ? transport_health_->unavailable() : std::string();
  });
  readiness_.add("cache_fresh",
                 [this] { return event_log_ ? event_log_->staleness() : std::string(); });
  readiness_.add("not_overloaded", [this] {
    if (!http_) return std::string();
    const auto load = http_->load();
    const auto& http = settings_.http;
    const auto timeout = std::chrono::seconds(http.request_timeout_seconds);
    if (load.queued < static_cast<size_t>(http.max_queued) && load.oldest_wait < timeout / 2) {
      return std::string();
    }
    return std::to_string(load.queued) +
           " blocking requests wait for a worker ([http] max_queued " +
           std::to_string(http.max_queued) + "), the oldest for " +
           std::to_string(
               std::chrono::duration_cast<std::chrono::milliseconds>(load.oldest_wait).count()) +
           " ms ([http] request_timeout_seconds " + std::to_string(http.request_timeout_seconds) +
           "); new ones are being turned away with 503";
  });
}

std::string Host::pluginVersions() const {
  std::string versions;
  for (const auto& instance : instances_) {
    versions += (versions.empty() ? "" : ", ") + instance.loaded.name + " " +
                instance.loaded.descriptor->version;
  }
  return versions;
}

Poco::JSON::Object::Ptr Host::describeProcess() const {
  Poco::JSON::Object::Ptr process = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  process->set("pid", static_cast<int>(::getpid()));
  Poco::JSON::Object::Ptr plugins = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  for (const auto& instance : instances_) {
    plugins->set(instance.loaded.name, std::string(instance.loaded.descriptor->version));
  }
  process->set("plugins", plugins);
  const ReloadHistory history = reloadHistory();
  Poco::JSON::Object::Ptr reloads = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  reloads->set("ok", history.succeeded);
  reloads->set("failed", history.failed);
  reloads->set("timed_out", history.timed_out);
  if (history.last_unix_seconds != 0) {
    reloads->set("last", Poco::DateTimeFormatter::format(
                             Poco::Timestamp::fromEpochTime(history.last_unix_seconds),
                             Poco::DateTimeFormat::ISO8601_FORMAT));
  } else {
    reloads->set("last", Poco::Dynamic::Var());
  }
  process->set("reloads", reloads);
  return process;
}

Poco::JSON::Array::Ptr Host::describePluginsJson() const {
  Poco::JSON::Array::Ptr plugins = new Poco::JSON::Array;
  for (const auto& instance : instances_) {
    const auto* descriptor = instance.loaded.descriptor;
    Poco::JSON::Object::Ptr plugin = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    plugin->set("name", instance.loaded.name);
    plugin->set("kind", kindName(descriptor->kind));
    plugin->set("version", std::string(descriptor->version));
    plugin->set(
        "abi", std::to_string(descriptor->abi_major) + "." + std::to_string(descriptor->abi_minor));
    plugin->set("file", instance.loaded.path);
    plugin->set("started", instance.started);
    plugins->add(plugin);
  }
  return plugins;
}

void Host::registerOpsRoutes() {
  ProbeSources probes{metrics_, readiness_, liveness_, settings_.server_id,
                      [this](Poco::JSON::Object& body) {
                        Poco::JSON::Object events;
                        events.set("dispatched", event_bus_.dispatched());
                        events.set("delivered", inline_bus_.delivered());
                        events.set("failed", inline_bus_.failed());
                        body.set("events", events);
                        body.set("event_log", event_log_->figures());
                        body.set("consistency", consistency_.figures());
                        body.set("process", describeProcess());
                      }};
  addProbeRoutes(router_, probes);
  addProbeRoutes(admin_router_, probes);
  AdminActions admin{metrics_,
                     [this](const std::string& why) { event_log_->requestResync(why); },
                     [this] { return describePluginsJson(); },
                     [this] {
                       auto report = describeConfig(config_, settings_);
                       report->getObject("effective")
                           ->set("admin_bind",
                                 settings_.admin.bind_host + ":" + std::to_string(adminPort()));
                       return report;
                     },
                     {}};
  if (ParkingLot* lot = event_log_->parkingLot()) {
    addParkedEventRoutes(admin_router_, *lot, [this](const std::vector<std::string>& ids) {
      return event_log_->replayParked(ids);
    });
    admin.more_routes = {"GET /admin/events/parked", "POST /admin/events/parked/replay",
                         "POST /admin/events/parked/{event_id}/replay",
                         "DELETE /admin/events/parked/{event_id}"};
  }
  addConsistencyRoutes(admin_router_, consistency_);
  admin.more_routes.insert(admin.more_routes.end(),
                           {"GET /admin/consistency", "POST /admin/consistency"});
  addAdminRoutes(admin_router_, admin);
}

}  // namespace busbar::host

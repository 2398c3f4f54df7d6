// Host: loads the plugins and runs them in order.
//
//   load():  read every plugin's descriptor and check it, order them (storage, transport, then
//            modules by their requires), init each with its config section. No I/O. This is
//            all that --check-config does.
//   start(): start storage, transport, apply migrations, start modules, start the admin listener
//            and the storage probe, preload at a known event log position (deliveries from the
//            transport wait meanwhile), open the inline bus, start following and relaying the
//            event log, then the public listener; then tell systemd it is ready.
//   stop():  readiness goes false at once ([http] shutdown_delay_seconds of draining follow),
//            stop the public listener (requests in flight finish) and the admin one, stop
//            following and relaying the log, stop plugins in reverse order.
// Operations (host/ops/): every metric in one registry (plugins' through PluginContext::metrics),
// readiness checks, liveness of the event loops, the probe and admin routes. The consistency
// observer (host/consistency/) checks the caches modules registered from the end of start() to
// the beginning of stop().
// Plugin objects are destroyed in reverse order by the destructor; libraries stay loaded.
// Not thread-safe: driven from the main thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <Poco/AutoPtr.h>
#include <Poco/Logger.h>
#include <Poco/Util/AbstractConfiguration.h>

#include "busbar/plugin.h"
#include "consistency/consistency_observer.h"
#include "events/event_log_runtime.h"
#include "events/host_event_bus.h"
#include "events/host_inbound.h"
#include "events/inline_bus.h"
#include "host_config.h"
#include "http/http_router.h"
#include "http/http_server.h"
#include "migrator.h"
#include "ops/event_metrics.h"
#include "ops/liveness_monitor.h"
#include "ops/logging.h"
#include "ops/metrics_registry.h"
#include "ops/process_metrics.h"
#include "ops/readiness.h"
#include "ops/storage_probe.h"
#include "ops/systemd_notifier.h"
#include "plugins/plugin_loader.h"
#include "plugins/service_registry.h"

namespace busbar::host {

class Host {
 public:
  // `logging`, when given, is where the server's log goes: its access log serves the listeners
  // and reload() applies [log] to it.
  Host(HostSettings settings, Poco::Logger& logger, Logging* logging = nullptr);
  ~Host();

  // On failure throws ConfigError or PluginRejected with the operator's message.
  void load();
  // On failure throws; what was started is stopped by stop() or the destructor.
  // `serving` runs just before the public listener starts serving: from then on a client may
  // see the server answer, so a stop signal must drain it rather than end it.
  void start(const std::function<void()>& serving = {});
  void stop() noexcept;

  // Applies `log` (busbar reload, SIGHUP), telling systemd. On a bad setting throws ConfigError
  // and keeps what was in force.
  void reload(const LogSettings& log);

  // One line per plugin, in start order: name, kind, version, file.
  std::vector<std::string> describePlugins() const;

  // The admin listener's port (after start()).
  uint16_t adminPort() const { return admin_http_ ? admin_http_->port() : 0; }

  const HostSettings& settings() const { return settings_; }
  ServiceRegistry& registry() { return registry_; }

 private:
  class Context;
  struct Instance {
    LoadedPlugin loaded;
    Plugin* plugin = nullptr;
    std::unique_ptr<Context> context;
    bool started = false;
  };

  std::vector<LoadedPlugin> orderPlugins(const std::vector<LoadedPlugin>& loaded) const;
  // Puts the event log's outbox in front of the storage plugin's "storage" service.
  void wrapStorage();
  // The host's own metrics families, before any plugin can take their names.
  void registerMetrics();
  // busbar_build_info and busbar_plugin_info, once the plugins are known.
  void registerInfoMetrics();
  // The blocking requests of both listeners: worker queue, waits, shed and timed out.
  void registerHttpLoadMetrics();
  void registerOpsRoutes();
  // Makes both listeners and binds their addresses, serving nothing yet; throws naming the fix
  // when one is taken.
  void bindListeners();
  void addReadinessChecks();
  Poco::JSON::Array::Ptr describePluginsJson() const;

  HostSettings settings_;
  Poco::Logger& logger_;
  Logging* const logging_;
  SystemdNotifier notifier_;
  HostMetricsRegistry metrics_;
  HostConsistencyObserver consistency_;
  HttpMetrics http_metrics_;
  ProcessMetrics process_metrics_;
  Readiness readiness_;
  Poco::AutoPtr<Poco::Util::AbstractConfiguration> config_;
  HostInfo info_;
  ServiceRegistry registry_;
  InlineBus inline_bus_;
  HostInbound inbound_;
  HostEventBus event_bus_;
  EventMetrics event_metrics_;
  HttpRouter router_;
  HttpRouter admin_router_;
  Migrator migrator_;
  std::vector<Instance> instances_;
  std::shared_ptr<Connection> storage_plugin_;   // the storage plugin's own, for the probe
  TransportHealth* transport_health_ = nullptr;  // the transport's, when it reports one
  std::unique_ptr<EventLogRuntime> event_log_;   // after instances_: gone before the plugins
  std::unique_ptr<StorageProbe> storage_probe_;
  LivenessMonitor liveness_;
  HttpMetrics::Listener* public_metrics_ = nullptr;
  HttpMetrics::Listener* admin_metrics_ = nullptr;
  std::unique_ptr<HttpServer> admin_http_;
  std::unique_ptr<HttpServer> http_;
  bool stopped_ = false;
};

}  // namespace busbar::host

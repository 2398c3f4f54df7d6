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
// A reload (SIGHUP) hands the server to a new process (handover/successor.h): the old host gives
// its listening sockets and waits; the new one takes them over (takeOver()), starts as above and
// reports ready instead of telling systemd; then the old one stops without the drain delay, its
// sockets served by the new process all along.
// Operations (host/ops/): every metric in one registry (plugins' through PluginContext::metrics),
// readiness checks, liveness of the event loops, the probe and admin routes. The consistency
// observer (host/consistency/) checks the caches modules registered from the end of start() to
// the beginning of stop().
// Plugin objects are destroyed in reverse order by the destructor; libraries stay loaded.
// Not thread-safe: driven from the main thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
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
#include "handover/handover_environment.h"
#include "handover/inherited_listeners.h"
#include "handover/process_spawn.h"
#include "handover/successor.h"
#include "handover/successor_report.h"
#include "host_config.h"
#include "http/access_policy.h"
#include "http/bearer_tokens.h"
#include "http/http_router.h"
#include "http/http_server.h"
#include "migrator.h"
#include "ops/event_metrics.h"
#include "ops/liveness_monitor.h"
#include "ops/logging.h"
#include "ops/metrics_registry.h"
#include "ops/process_metrics.h"
#include "ops/readiness.h"
#include "ops/stop_progress.h"
#include "ops/storage_probe.h"
#include "ops/systemd_notifier.h"
#include "plugins/plugin_loader.h"
#include "plugins/service_registry.h"

namespace busbar::host {

class Host {
 public:
  // `logging`, when given, is where the server's log goes: its access log serves the listeners
  // and reopenLogs() reopens its files.
  Host(HostSettings settings, Poco::Logger& logger, Logging* logging = nullptr);
  ~Host();

  // This process takes over from the one before it at a reload: its listeners serve `listeners`
  // (those bound to their addresses), it says it serves on `report` instead of telling systemd,
  // and `history` counts the reloads so far. Before load().
  void takeOver(InheritedListeners listeners, SuccessorReport* report, ReloadHistory history);

  // On failure throws ConfigError or PluginRejected with the operator's message.
  void load();
  // On failure throws; what was started is stopped by stop() or the destructor.
  // `serving` runs just before the public listener starts serving: from then on a client may
  // see the server answer, so a stop signal must drain it rather than end it.
  void start(const std::function<void()>& serving = {});

  enum class StopReason {
    kStopSignal,  // readiness goes false and the drain delay passes before the listeners close
    kHandedOver,  // a new process serves the same sockets already: no delay, nothing to systemd
  };
  void stop(StopReason reason = StopReason::kStopSignal) noexcept;
  // What stop() is waiting for; outlives the host (the stop deadline's thread reads it).
  std::shared_ptr<const StopProgress> stopProgress() const { return stop_progress_; }

  // For a reload, after start(): the listening sockets' descriptors by listener name.
  std::map<std::string, std::vector<int>> listeningDescriptors() const;
  // The reloads of this service so far, this process's included. Thread-safe.
  ReloadHistory reloadHistory() const;
  // A reload begins: systemd hears RELOADING=1.
  void reloadBegins();
  // The reload ended with `result`. On kReady systemd hears that the new process is the main one
  // and ready, and it returns true: this process stops. Otherwise (or when systemd could not be
  // told: the new process is ended then) the failure is counted and logged, systemd hears that
  // this process serves on, and it returns false.
  bool reloadEnded(const Successor::Result& result);

  // Reopens the log files with the settings in force (SIGUSR1, after logrotate moved them).
  void reopenLogs();

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
  // Puts the event log's outbox in front of the storage plugin's "storage" service, after the
  // init() of `storage_plugin` ("" without one).
  void wrapStorage(const std::string& storage_plugin);
  // With the log on but no EventLogStorage from `storage_plugin`: throws ConfigError when
  // host.conf asks for the log, else logs that it is off.
  void refuseOrWarnWithoutEventLog(const std::string& storage_plugin);
  // The host's own metrics families, before any plugin can take their names.
  void registerMetrics();
  // busbar_build_info and busbar_plugin_info, once the plugins are known.
  void registerInfoMetrics();
  void registerOpsRoutes();
  // Makes both listeners and binds their addresses, serving nothing yet; throws naming the fix
  // when one is taken.
  void bindListeners();
  void addReadinessChecks();
  Poco::JSON::Array::Ptr describePluginsJson() const;
  // "users 1.2.0, sqlite 1.0.0, ...": the plugins serving, for the log of a reload.
  std::string pluginVersions() const;
  // /health's "process": pid, the plugin versions serving, the reloads so far.
  Poco::JSON::Object::Ptr describeProcess() const;

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
  HttpRouter admin_router_{kScopeAdmin};  // a route added without RouteAccess needs "admin"
  // Who may call which route, from settings_.auth; null while a listener's auth is off.
  std::unique_ptr<BearerTokens> tokens_;
  std::unique_ptr<AccessPolicy> public_access_;
  std::unique_ptr<AccessPolicy> admin_access_;
  std::unique_ptr<TlsServerContext> public_tls_;  // null: plain HTTP
  std::unique_ptr<TlsServerContext> admin_tls_;
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
  InheritedListeners inherited_;                 // until bindListeners() takes them
  SuccessorReport* successor_report_ = nullptr;  // set when a reload started this process
  mutable std::mutex reloads_mutex_;
  ReloadHistory reloads_;
  bool stopped_ = false;
  std::shared_ptr<StopProgress> stop_progress_ = std::make_shared<StopProgress>();
};

}  // namespace busbar::host

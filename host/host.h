// Host: loads the plugins and runs them in order.
//
//   load():  read every plugin's descriptor and check it, order them (storage, transport, then
//            modules by their requires), init each with its config section. No I/O. This is
//            all that --check-config does.
//   start(): start storage, transport, apply migrations, start modules, preload at a known
//            event log position (deliveries from the transport wait meanwhile), open the inline
//            bus, start following and relaying the event log, then HTTP.
//   stop():  stop HTTP (requests in flight finish), stop following and relaying the log, stop
//            plugins in reverse order.
// Plugin objects are destroyed in reverse order by the destructor; libraries stay loaded.
// Not thread-safe: driven from the main thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <Poco/AutoPtr.h>
#include <Poco/Logger.h>
#include <Poco/Util/AbstractConfiguration.h>

#include "busbar/plugin.h"
#include "events/event_log_runtime.h"
#include "events/host_event_bus.h"
#include "events/host_inbound.h"
#include "events/inline_bus.h"
#include "host_config.h"
#include "http/http_router.h"
#include "http/http_server.h"
#include "migrator.h"
#include "plugins/plugin_loader.h"
#include "plugins/service_registry.h"

namespace busbar::host {

class Host {
 public:
  Host(HostSettings settings, Poco::Logger& logger);
  ~Host();

  // On failure throws ConfigError or PluginRejected with the operator's message.
  void load();
  // On failure throws; what was started is stopped by stop() or the destructor.
  void start();
  void stop() noexcept;

  // One line per plugin, in start order: name, kind, version, file.
  std::vector<std::string> describePlugins() const;

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
  void registerHealthRoute();

  HostSettings settings_;
  Poco::Logger& logger_;
  Poco::AutoPtr<Poco::Util::AbstractConfiguration> config_;
  HostInfo info_;
  ServiceRegistry registry_;
  InlineBus inline_bus_;
  HostInbound inbound_;
  HostEventBus event_bus_;
  HttpRouter router_;
  Migrator migrator_;
  std::vector<Instance> instances_;
  std::unique_ptr<EventLogRuntime> event_log_;  // after instances_: gone before the plugins
  std::unique_ptr<HttpServer> http_;
  bool stopped_ = false;
};

}  // namespace busbar::host

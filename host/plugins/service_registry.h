// ServiceRegistry: the host's Registry. provide() during init; findService() and
// requireService() from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "busbar/registry.h"

namespace busbar::host {

// A loaded plugin as requireService's refusals name it.
struct RegisteredPlugin {
  std::string name;
  uint32_t kind = 0;  // BUSBAR_KIND_*
  std::string version;
  uint32_t abi_minor = 0;             // the SDK it was built against: 1.abi_minor
  std::vector<std::string> required;  // the plugins it requires
};

class ServiceRegistry : public Registry {
 public:
  // Every loaded plugin, before any init: whom a refusal names as the one lacking a service.
  void setPlugins(std::vector<RegisteredPlugin> plugins);

  // The plugin being initialized, which provides next, for error messages; `described` names
  // it with its file.
  void setProvider(const std::string& plugin, const std::string& described);

  void provide(const std::string& name, std::shared_ptr<Service> service) override;
  std::shared_ptr<Service> findService(const std::string& name) const override;
  // What the host asks for itself: no plugin asks.
  std::shared_ptr<Service> requireService(const std::string& name,
                                          const std::string& needed_by) const override {
    return requireServiceFor("", name, needed_by);
  }
  // requireService asked by the plugin `asking` ("" for the host): see Registry::requireService.
  std::shared_ptr<Service> requireServiceFor(const std::string& asking, const std::string& name,
                                             const std::string& needed_by) const;

  // Puts `service` under `name` in place of what is there (the host wrapping a plugin's service).
  // Throws ConfigError when nothing is there.
  void replace(const std::string& name, std::shared_ptr<Service> service);

  // Drops every service, newest first, so that plugins can be destroyed afterwards.
  void clear();

 private:
  struct Entry {
    std::shared_ptr<Service> service;
    std::string provider;         // described
    std::string provider_plugin;  // its name
    int order = 0;
  };
  // The plugins that would provide `name` to `asking` but do not: see Registry::requireService.
  std::vector<const RegisteredPlugin*> expectedProviders(const std::string& asking,
                                                         const std::string& name) const;
  // The refusal when no loaded plugin is expected to provide `name`.
  std::string refusalWithoutProvider(const std::string& asking, const std::string& name) const;
  // "the storage plugin 'x' (version V, built against SDK 1.N; provides a, b)".
  std::string describe(const RegisteredPlugin& plugin) const;

  std::vector<RegisteredPlugin> plugins_;  // set before init, read-only afterwards
  mutable std::mutex mutex_;
  std::map<std::string, Entry> services_;
  std::string provider_;  // guarded by mutex_, as the rest below
  std::string provider_plugin_;
  int next_order_ = 0;
};

// One plugin's view of the ServiceRegistry (PluginContext::registry()): the same services, and
// requireService names the plugin asking, from any thread, whenever it asks.
class PluginRegistryView : public Registry {
 public:
  PluginRegistryView(ServiceRegistry& registry, std::string plugin)
      : registry_(registry), plugin_(std::move(plugin)) {}

  void provide(const std::string& name, std::shared_ptr<Service> service) override {
    registry_.provide(name, std::move(service));
  }
  std::shared_ptr<Service> findService(const std::string& name) const override {
    return registry_.findService(name);
  }
  std::shared_ptr<Service> requireService(const std::string& name,
                                          const std::string& needed_by) const override {
    return registry_.requireServiceFor(plugin_, name, needed_by);
  }

 private:
  ServiceRegistry& registry_;
  const std::string plugin_;
};

}  // namespace busbar::host

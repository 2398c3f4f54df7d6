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
  void setProvider(const std::string& plugin, const std::string& described) {
    provider_plugin_ = plugin;
    provider_ = described;
  }

  void provide(const std::string& name, std::shared_ptr<Service> service) override;
  std::shared_ptr<Service> findService(const std::string& name) const override;
  std::shared_ptr<Service> requireService(const std::string& name,
                                          const std::string& needed_by) const override;

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
  // The plugins that would provide `name` but do not: see Registry::requireService.
  std::vector<const RegisteredPlugin*> expectedProviders(const std::string& name) const;
  // "the storage plugin 'x' (version V, built against SDK 1.N; provides a, b)".
  std::string describe(const RegisteredPlugin& plugin) const;

  std::vector<RegisteredPlugin> plugins_;  // set before init, read-only afterwards
  mutable std::mutex mutex_;
  std::map<std::string, Entry> services_;
  std::string provider_;
  std::string provider_plugin_;
  int next_order_ = 0;
};

}  // namespace busbar::host

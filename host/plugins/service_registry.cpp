#include "plugins/service_registry.h"

#include <algorithm>
#include <vector>

#include "busbar/abi.h"
#include "busbar/event_log_storage.h"
#include "busbar/nearest_name.h"
#include "plugins/plugin_catalog.h"

namespace busbar::host {

void ServiceRegistry::setPlugins(std::vector<RegisteredPlugin> plugins) {
  plugins_ = std::move(plugins);
}

void ServiceRegistry::setProvider(const std::string& plugin, const std::string& described) {
  std::lock_guard<std::mutex> lock(mutex_);
  provider_plugin_ = plugin;
  provider_ = described;
}

void ServiceRegistry::provide(const std::string& name, std::shared_ptr<Service> service) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto existing = services_.find(name);
  if (existing != services_.end()) {
    throw ConfigError("the service '" + name + "' is provided twice: by " +
                      existing->second.provider + " and by " + provider_ +
                      "; load only one of them");
  }
  services_[name] = Entry{std::move(service), provider_, provider_plugin_, next_order_++};
}

void ServiceRegistry::replace(const std::string& name, std::shared_ptr<Service> service) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto existing = services_.find(name);
  if (existing == services_.end()) {
    throw ConfigError("the service '" + name + "' cannot be replaced: nothing provides it");
  }
  existing->second.service = std::move(service);
}

std::shared_ptr<Service> ServiceRegistry::findService(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = services_.find(name);
  return found == services_.end() ? nullptr : found->second.service;
}

std::shared_ptr<Service> ServiceRegistry::requireServiceFor(const std::string& asking,
                                                            const std::string& name,
                                                            const std::string& needed_by) const {
  if (auto service = findService(name)) return service;
  const std::string or_remove =
      asking.empty() ? "" : ", or remove " + asking + " from [host] plugins";
  const auto expected = expectedProviders(asking, name);
  if (expected.empty()) {
    throw ConfigError(needed_by + " needs the service '" + name + "', which " +
                      refusalWithoutProvider(asking, name) + or_remove);
  }
  std::string message = needed_by + " needs the service '" + name + "', which ";
  std::string names;
  if (expected.size() == 1) {
    message += describe(*expected.front()) + " does not provide";
    names = expected.front()->name;
  } else {
    message += "none of these provides:";
    for (const auto* plugin : expected) {
      message += " " + describe(*plugin) + ";";
      names += (names.empty() ? "" : " or ") + plugin->name;
    }
    message.pop_back();
  }
  throw ConfigError(message + ". Fix: upgrade " + names +
                    " to a version that provides it (this host's SDK is 1." +
                    std::to_string(BUSBAR_ABI_MINOR) + ")" + or_remove);
}

std::string ServiceRegistry::refusalWithoutProvider(const std::string& asking,
                                                    const std::string& name) const {
  if (name == "storage" || name == kEventLogStorageService) {
    return "a storage plugin provides, and none is loaded. Fix: name one in [storage] driver "
           "and [host] plugins";
  }
  if (name == "transport") {
    return "a transport plugin provides, and none is loaded. Fix: name one in [event_bus] "
           "transport and [host] plugins";
  }
  std::string loaded;
  for (const auto& plugin : plugins_) loaded += " " + plugin.name;
  std::vector<std::string> provided;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& entry : services_) provided.push_back(entry.first);
  }
  const std::string nearest = nearestName(name, provided);
  return "no loaded plugin provides (loaded:" + loaded + ")" +
         (nearest.empty() ? "." : "; did you mean '" + nearest + "'?") +
         " Fix: add the plugin that provides it to [host] plugins";
}

std::vector<const RegisteredPlugin*> ServiceRegistry::expectedProviders(
    const std::string& asking, const std::string& name) const {
  // The services the host looks for come from the plugin of one kind; the others from the
  // plugins that the one asking requires, which were initialized before it.
  uint32_t kind = 0;
  if (name == "storage" || name == kEventLogStorageService) kind = BUSBAR_KIND_STORAGE;
  if (name == "transport") kind = BUSBAR_KIND_TRANSPORT;
  std::vector<const RegisteredPlugin*> expected;
  for (const auto& plugin : plugins_) {
    if (kind != 0) {
      if (plugin.kind == kind) expected.push_back(&plugin);
      continue;
    }
    if (plugin.name != asking) continue;
    for (const auto& required : plugin.required) {
      for (const auto& candidate : plugins_) {
        if (candidate.name == required) expected.push_back(&candidate);
      }
    }
  }
  return expected;
}

std::string ServiceRegistry::describe(const RegisteredPlugin& plugin) const {
  std::string provided;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [name, entry] : services_) {
      if (entry.provider_plugin == plugin.name) provided += (provided.empty() ? "" : ", ") + name;
    }
  }
  return "the " + kindName(plugin.kind) + " plugin '" + plugin.name + "' (version " +
         plugin.version + ", built against SDK 1." + std::to_string(plugin.abi_minor) +
         "; provides " + (provided.empty() ? "nothing" : provided) + ")";
}

void ServiceRegistry::clear() {
  std::vector<Entry> entries;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [name, entry] : services_) entries.push_back(std::move(entry));
    services_.clear();
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.order > b.order; });
  for (auto& entry : entries) entry.service.reset();
}

}  // namespace busbar::host

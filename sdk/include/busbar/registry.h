// Registry: services by name, how plugins find each other without naming each other's types.
//
// The storage plugin provides "storage" (a Connection), the transport plugin "transport"; a
// module may provide its repositories for other modules. Provide only during init; find from
// any thread afterwards.
#pragma once

#include <memory>
#include <string>

#include "busbar/errors.h"
#include "busbar/export.h"

namespace busbar {

// Base of everything put in the registry. Types shared between plugins must be BUSBAR_API so
// that the cast in find() works across shared objects.
class BUSBAR_API Service {
 public:
  virtual ~Service() = default;
};

class BUSBAR_API Registry {
 public:
  virtual ~Registry() = default;

  // On success the service is found under `name`. On a second provide of a name throws
  // ConfigError naming both providers.
  virtual void provide(const std::string& name, std::shared_ptr<Service> service) = 0;

  // The service under `name`, or nullptr when there is none.
  virtual std::shared_ptr<Service> findService(const std::string& name) const = 0;

  // The service under `name` as a T, or nullptr when absent or of another type.
  template <typename T>
  std::shared_ptr<T> find(const std::string& name) const {
    return std::dynamic_pointer_cast<T>(findService(name));
  }

  // Like find, but throws ConfigError saying who needs what when it is missing: since SDK 1.4
  // the host's message also names the plugin that should provide it (requireService).
  template <typename T>
  std::shared_ptr<T> require(const std::string& name, const std::string& needed_by) const {
    auto service = std::dynamic_pointer_cast<T>(requireService(name, needed_by));
    if (!service) {
      throw ConfigError(needed_by + " needs the service '" + name + "' as a type its provider " +
                        "does not implement: a wrong type asked for, or a type shared between " +
                        "plugins that is not BUSBAR_API or not defined in one header both include");
    }
    return service;
  }

  // Since SDK 1.4 (a plugin calling it, or require(), needs a host of ABI 1.4 or later). On
  // success the service under `name`. When there is none, throws ConfigError naming `needed_by`
  // and the service; the host's message also names the loaded plugin that would provide it (the
  // storage plugin for "storage" and "event_log_storage", the transport for "transport", else the
  // plugins the one asking requires) with the SDK it was built against, and the fix.
  virtual std::shared_ptr<Service> requireService(const std::string& name,
                                                  const std::string& needed_by) const {
    auto service = findService(name);
    if (!service) {
      throw ConfigError(needed_by + " needs the service '" + name +
                        "', which no loaded plugin provides");
    }
    return service;
  }
};

}  // namespace busbar

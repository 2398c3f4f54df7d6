// ServiceRegistry: the host's Registry. provide() during init; findService() from any thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "busbar/registry.h"

namespace busbar::host {

class ServiceRegistry : public Registry {
 public:
  // `provider` names who provides next (the plugin being initialized), for error messages.
  void setProvider(const std::string& provider) { provider_ = provider; }

  void provide(const std::string& name, std::shared_ptr<Service> service) override;
  std::shared_ptr<Service> findService(const std::string& name) const override;

  // Puts `service` under `name` in place of what is there (the host wrapping a plugin's service).
  // Throws ConfigError when nothing is there.
  void replace(const std::string& name, std::shared_ptr<Service> service);

  // Drops every service, newest first, so that plugins can be destroyed afterwards.
  void clear();

 private:
  struct Entry {
    std::shared_ptr<Service> service;
    std::string provider;
    int order = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Entry> services_;
  std::string provider_;
  int next_order_ = 0;
};

}  // namespace busbar::host

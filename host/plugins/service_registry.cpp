#include "plugins/service_registry.h"

#include <algorithm>
#include <vector>

namespace busbar::host {

void ServiceRegistry::provide(const std::string& name, std::shared_ptr<Service> service) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto existing = services_.find(name);
  if (existing != services_.end()) {
    throw ConfigError("the service '" + name + "' is provided twice: by " +
                      existing->second.provider + " and by " + provider_ +
                      "; load only one of them");
  }
  services_[name] = Entry{std::move(service), provider_, next_order_++};
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

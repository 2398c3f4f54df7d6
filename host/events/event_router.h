// EventRouter: which exchanges an event type goes to.
//
// router.<type> lists aliases for that type; router._others for types without their own entry;
// router._all for every type, in addition. Aliases resolve to broker exchange names. Immutable;
// thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace busbar::host {

class EventRouter {
 public:
  EventRouter(const std::map<std::string, std::vector<std::string>>& routes,
              const std::map<std::string, std::string>& exchanges);

  // The broker exchange names for `event_type`, each once, in configuration order.
  const std::vector<std::string>& exchangesFor(const std::string& event_type) const;

 private:
  std::map<std::string, std::vector<std::string>> by_type_;  // resolved names
  std::vector<std::string> others_;                          // _others + _all
};

}  // namespace busbar::host

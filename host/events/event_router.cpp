#include "events/event_router.h"

#include <algorithm>

namespace busbar::host {
namespace {

void appendResolved(std::vector<std::string>& out, const std::vector<std::string>& aliases,
                    const std::map<std::string, std::string>& exchanges) {
  for (const auto& alias : aliases) {
    auto found = exchanges.find(alias);
    if (found == exchanges.end()) continue;  // HostConfig rejected unknown aliases already
    if (std::find(out.begin(), out.end(), found->second) == out.end()) out.push_back(found->second);
  }
}

}  // namespace

EventRouter::EventRouter(const std::map<std::string, std::vector<std::string>>& routes,
                         const std::map<std::string, std::string>& exchanges) {
  static const std::vector<std::string> kNone;
  auto all = routes.find("_all");
  auto others = routes.find("_others");
  const auto& all_aliases = all == routes.end() ? kNone : all->second;
  for (const auto& [type, aliases] : routes) {
    if (type == "_all" || type == "_others") continue;
    auto& resolved = by_type_[type];
    appendResolved(resolved, aliases, exchanges);
    appendResolved(resolved, all_aliases, exchanges);
  }
  appendResolved(others_, others == routes.end() ? kNone : others->second, exchanges);
  appendResolved(others_, all_aliases, exchanges);
}

const std::vector<std::string>& EventRouter::exchangesFor(const std::string& event_type) const {
  auto found = by_type_.find(event_type);
  return found == by_type_.end() ? others_ : found->second;
}

}  // namespace busbar::host

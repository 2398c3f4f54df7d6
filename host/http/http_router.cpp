#include "http/http_router.h"

#include "busbar/errors.h"

namespace busbar::host {

std::vector<std::string_view> HttpRouter::split(std::string_view path) {
  std::vector<std::string_view> segments;
  segments.reserve(8);
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return segments;
}

int HttpRouter::fit(const Route& route, const std::vector<std::string_view>& segments) {
  if (route.segments.size() != segments.size()) return -1;
  int literals = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    const auto& expected = route.segments[i];
    if (expected.front() == '{') continue;
    if (expected != segments[i]) return -1;
    ++literals;
  }
  return literals;
}

void HttpRouter::add(const std::string& method, const std::string& pattern, RouteHandler handler) {
  for (auto& route : routes_) {
    if (route.pattern != pattern) continue;
    if (!route.handlers.emplace(method, std::move(handler)).second) {
      throw ConfigError("route " + method + " " + pattern + " is registered twice");
    }
    return;
  }
  Route route;
  route.pattern = pattern;
  for (auto segment : split(pattern)) route.segments.emplace_back(segment);
  for (const auto& segment : route.segments) {
    if (segment.front() == '{' && (segment.back() != '}' || segment.size() < 3)) {
      throw ConfigError("route pattern " + pattern + ": a capture is written {name}");
    }
  }
  route.handlers.emplace(method, std::move(handler));
  routes_.push_back(std::move(route));
}

HttpRouter::Match HttpRouter::match(const std::string& method, const std::string& path) const {
  Match result;
  auto segments = split(path);
  const Route* best = nullptr;
  int best_literals = -1;
  // Among the routes that fit, prefer the one that serves this method, then the most literal.
  bool best_serves = false;
  for (const auto& route : routes_) {
    int literals = fit(route, segments);
    if (literals < 0) continue;
    bool serves =
        route.handlers.count(method) != 0 || (method == "HEAD" && route.handlers.count("GET"));
    if (best == nullptr || (serves && !best_serves) ||
        (serves == best_serves && literals > best_literals)) {
      best = &route;
      best_literals = literals;
      best_serves = serves;
    }
  }
  if (best == nullptr) return result;
  result.path_known = true;
  for (const auto& [name, handler] : best->handlers) {
    result.allow += (result.allow.empty() ? "" : ", ") + name;
  }
  auto found =
      best->handlers.find(method == "HEAD" && !best->handlers.count("HEAD") ? "GET" : method);
  if (found == best->handlers.end()) return result;
  result.handler = &found->second;
  for (size_t i = 0; i < segments.size(); ++i) {
    const auto& segment = best->segments[i];
    if (segment.front() == '{') {
      result.params[segment.substr(1, segment.size() - 2)] = std::string(segments[i]);
    }
  }
  return result;
}

}  // namespace busbar::host

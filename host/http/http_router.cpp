#include "http/http_router.h"

#include <algorithm>
#include <set>

#include "busbar/errors.h"
#include "http/bearer_tokens.h"

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

bool HttpRouter::serves(const Route& route, std::string_view method) {
  return route.endpoints.count(method) != 0 ||
         (method == "HEAD" && route.endpoints.count(std::string_view("GET")) != 0);
}

void HttpRouter::add(const std::string& method, const std::string& pattern, RouteHandler handler) {
  Endpoint endpoint;
  endpoint.handler = std::move(handler);
  addEndpoint(method, pattern, std::move(endpoint));
}

void HttpRouter::add(const std::string& method, const std::string& pattern, RouteHandler handler,
                     const RouteOptions& options) {
  Endpoint endpoint = endpointFor(method, pattern, options);
  endpoint.handler = std::move(handler);
  addEndpoint(method, pattern, std::move(endpoint));
}

void HttpRouter::add(const std::string& method, const std::string& pattern,
                     CallerRouteHandler handler, const RouteOptions& options,
                     const RouteAccess& access) {
  Endpoint endpoint = endpointFor(method, pattern, options);
  endpoint.caller_handler = std::move(handler);
  addEndpoint(method, pattern, std::move(endpoint), access.scope);
}

HttpRouter::Endpoint HttpRouter::endpointFor(const std::string& method, const std::string& pattern,
                                             const RouteOptions& options) {
  Endpoint endpoint;
  endpoint.never_blocks = options.never_blocks;
  endpoint.any_query = false;
  std::set<std::string> seen;
  for (const auto& name : options.query_parameters) {
    if (name.empty() || !seen.insert(name).second) {
      throw ConfigError("route " + method + " " + pattern + ": query parameter '" + name + "' is " +
                        (name.empty() ? "empty" : "listed twice"));
    }
  }
  endpoint.query_parameters = options.query_parameters;
  return endpoint;
}

void HttpRouter::addEndpoint(const std::string& method, const std::string& pattern,
                             Endpoint endpoint, const std::string& declared) {
  endpoint.name = method + " " + pattern;
  if (!declared.empty() && declared != kScopePublic && !isScopeName(declared)) {
    throw ConfigError("route " + endpoint.name + ": scope '" + declared +
                      "' is not a scope name; use [a-z][a-z0-9_-]*, at most 32 characters, "
                      "or busbar::kScopePublic for a route anyone may call");
  }
  if (!declared.empty()) {
    endpoint.scope = declared;
  } else if (!undeclared_scope_.empty()) {
    endpoint.scope = undeclared_scope_;
  } else {
    endpoint.scope = method == "GET" || method == "HEAD" ? kScopeRead : kScopeWrite;
  }
  endpoint.index = patterns_.size();
  auto existing = std::find_if(routes_.begin(), routes_.end(),
                               [&](const Route& route) { return route.pattern == pattern; });
  if (existing == routes_.end()) {
    Route route;
    route.pattern = pattern;
    for (auto segment : split(pattern)) route.segments.emplace_back(segment);
    for (const auto& segment : route.segments) {
      if (segment.front() == '{' && (segment.back() != '}' || segment.size() < 3)) {
        throw ConfigError("route pattern " + pattern + ": a capture is written {name}");
      }
    }
    routes_.push_back(std::move(route));
    existing = std::prev(routes_.end());
  }
  if (!existing->endpoints.emplace(method, std::move(endpoint)).second) {
    throw ConfigError("route " + method + " " + pattern + " is registered twice");
  }
  patterns_.push_back(pattern);
  std::set<std::string> methods;
  for (const auto& [name, unused] : existing->endpoints) methods.insert(name);
  if (methods.count("GET") != 0) methods.insert("HEAD");
  existing->allow.clear();
  for (const auto& name : methods) existing->allow += (existing->allow.empty() ? "" : ", ") + name;
}

HttpRouter::Match HttpRouter::match(std::string_view method, std::string_view path) const {
  Match result;
  auto segments = split(path);
  const Route* best = nullptr;
  int best_literals = -1;
  // Among the routes that fit, prefer the one that serves this method, then the most literal.
  bool best_serves = false;
  for (const auto& route : routes_) {
    int literals = fit(route, segments);
    if (literals < 0) continue;
    bool route_serves = serves(route, method);
    if (best == nullptr || (route_serves && !best_serves) ||
        (route_serves == best_serves && literals > best_literals)) {
      best = &route;
      best_literals = literals;
      best_serves = route_serves;
    }
  }
  if (best == nullptr) return result;
  result.allow = &best->allow;
  auto found = best->endpoints.find(method);
  if (found == best->endpoints.end() && method == "HEAD") found = best->endpoints.find("GET");
  if (found == best->endpoints.end()) return result;
  result.endpoint = &found->second;
  for (size_t i = 0; i < segments.size(); ++i) {
    const auto& segment = best->segments[i];
    if (segment.front() == '{') {
      result.params.emplace(segment.substr(1, segment.size() - 2), segments[i]);
    }
  }
  return result;
}

}  // namespace busbar::host

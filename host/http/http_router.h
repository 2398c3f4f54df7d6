// HttpRouter: routes of method + path pattern ("/users/{id}") to handlers and how they are served.
//
// add() during init only; match() is thread-safe afterwards. A literal segment beats a capture,
// so "/users/me" can live beside "/users/{id}". HEAD is served by a route's GET handler unless the
// route has a HEAD handler of its own. Each endpoint records the scope a caller needs
// (RouteAccess); the listener's AccessPolicy checks it.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "busbar/http.h"

namespace busbar::host {

class HttpRouter : public Routes {
 public:
  // `undeclared_scope`: the scope of a route added without RouteAccess (or with an empty one);
  // empty: by method, kScopeRead for GET and HEAD, kScopeWrite for the others.
  explicit HttpRouter(std::string undeclared_scope = "")
      : undeclared_scope_(std::move(undeclared_scope)) {}

  void add(const std::string& method, const std::string& pattern, RouteHandler handler) override;
  void add(const std::string& method, const std::string& pattern, RouteHandler handler,
           const RouteOptions& options) override;
  void add(const std::string& method, const std::string& pattern, CallerRouteHandler handler,
           const RouteOptions& options, const RouteAccess& access) override;

  // One method of one route: its handler and how it is served.
  struct Endpoint {
    RouteHandler handler;               // one of the two is set
    CallerRouteHandler caller_handler;  // added with RouteAccess: takes the caller
    std::string scope;                  // what a caller's token must hold, or kScopePublic
    bool never_blocks = false;
    bool any_query = true;                      // added without options: every query passes
    std::vector<std::string> query_parameters;  // else: the only ones allowed
    std::string name;                           // "GET /users/{id}", for messages
    size_t index = 0;                           // 0, 1, 2... in the order routes were added
  };

  struct Match {
    const Endpoint* endpoint = nullptr;         // null: no handler for this method
    std::map<std::string, std::string> params;  // captures of the matched pattern
    const std::string* allow = nullptr;         // set when some route has this path (else 404):
                                                // its methods, for the Allow header of a 405
  };

  Match match(std::string_view method, std::string_view path) const;

  // The pattern of each endpoint, by Endpoint::index: what metrics call the route.
  const std::vector<std::string>& patterns() const { return patterns_; }

 private:
  struct Route {
    std::string pattern;
    std::vector<std::string> segments;  // "{name}" marks a capture
    std::map<std::string, Endpoint, std::less<>> endpoints;
    std::string allow;  // "DELETE, GET, HEAD, PUT"
  };
  // An endpoint served as `options` say; throws ConfigError on a bad query parameter list.
  static Endpoint endpointFor(const std::string& method, const std::string& pattern,
                              const RouteOptions& options);
  // Sets endpoint.scope from `declared` (empty: the undeclared scope) and adds it.
  void addEndpoint(const std::string& method, const std::string& pattern, Endpoint endpoint,
                   const std::string& declared = "");
  // Views into `path`, which must outlive them; no segment is copied.
  static std::vector<std::string_view> split(std::string_view path);
  // Number of literal segments matched, or -1 when the path does not fit.
  static int fit(const Route& route, const std::vector<std::string_view>& segments);
  static bool serves(const Route& route, std::string_view method);

  std::string undeclared_scope_;
  std::vector<Route> routes_;
  std::vector<std::string> patterns_;
};

}  // namespace busbar::host

// HttpRouter: routes of method + path pattern ("/users/{id}") to handlers.
//
// add() during init only; match() is thread-safe. A literal segment beats a capture, so
// "/users/me" can live beside "/users/{id}".
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "busbar/http.h"

namespace busbar::host {

class HttpRouter : public Routes {
 public:
  void add(const std::string& method, const std::string& pattern, RouteHandler handler) override;

  struct Match {
    const RouteHandler* handler = nullptr;      // null: no handler for this method
    std::map<std::string, std::string> params;  // captures of the matched pattern
    bool path_known = false;                    // some route has this path (then 405)
    std::string allow;                          // methods of that path, for the Allow header
  };

  Match match(const std::string& method, const std::string& path) const;

 private:
  struct Route {
    std::string pattern;
    std::vector<std::string> segments;  // "{name}" marks a capture
    std::map<std::string, RouteHandler> handlers;
  };
  // Views into `path`, which must outlive them; no segment is copied.
  static std::vector<std::string_view> split(std::string_view path);
  // Number of literal segments matched, or -1 when the path does not fit.
  static int fit(const Route& route, const std::vector<std::string_view>& segments);

  std::vector<Route> routes_;
};

}  // namespace busbar::host

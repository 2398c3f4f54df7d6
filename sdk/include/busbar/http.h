// HTTP routes: how a module serves requests through the host's server.
//
// The host owns the server: it answers unknown paths with 404, wrong methods with 405 and an
// Allow header, bodies over http.max_body with 413 and non-JSON bodies with 415, all as
// {"error": "..."}. Handlers run on the server's threads, several at once.
#pragma once

#include <functional>
#include <map>
#include <stdexcept>
#include <string>

#include "busbar/export.h"

namespace busbar {

struct HttpRequest {
  std::string method;                         // "GET", "PUT", ...
  std::string path;                           // decoded, without the query
  std::map<std::string, std::string> params;  // from {name} segments of the route, decoded
  std::map<std::string, std::string> query;   // ?a=b, decoded; the last of a repeated name
  std::string body;                           // raw bytes
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
  std::string body;
};

// Throw from a handler to answer `status` with {"error": message}.
class BUSBAR_API HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

using RouteHandler = std::function<void(const HttpRequest&, HttpResponse&)>;

class BUSBAR_API Routes {
 public:
  virtual ~Routes() = default;

  // Serves `method` on `pattern`, a path whose segments are literals or {name} captures
  // (e.g. "/users/{id}"). A literal segment wins over a capture. Throws ConfigError when the
  // same method and pattern are added twice. Only during init.
  virtual void add(const std::string& method, const std::string& pattern, RouteHandler handler) = 0;
};

}  // namespace busbar

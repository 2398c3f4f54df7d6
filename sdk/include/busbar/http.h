// HTTP routes: how a module serves requests through the host's server.
//
// The host owns the server: it answers unknown paths with 404, wrong methods with 405 and an
// Allow header, bodies over http.max_body with 413, non-JSON bodies with 415 and JSON bodies that
// are not UTF-8 with 400, all as {"error": "..."}. Handlers run several at once: on the server's
// worker threads, or, for a route that declares it never blocks, on the event loop thread that
// read the request.
#pragma once

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

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

// How the host serves a route; since SDK 1.1. Its layout is part of the ABI: a later minor adds
// a new struct and a new Routes::add overload rather than fields here.
struct RouteOptions {
  // True when the handler never waits: no I/O, no sleep, no lock held across I/O. It then runs on
  // the event loop thread that read the request, without two hand-offs between threads; a
  // handler that blocks there stalls every connection of its loop. False (the default, and every
  // route added without options): it runs on one of the [http] workers.
  bool never_blocks = false;

  // The query parameters the route takes. A request with any other gets 400 naming these; with
  // none listed, a request with a query gets 400.
  std::vector<std::string> query_parameters;
};

// Where a plugin registers its routes. Implemented by the host, called by plugins during init.
class BUSBAR_API Routes {
 public:
  virtual ~Routes() = default;

  // Serves `method` on `pattern`, a path whose segments are literals or {name} captures
  // (e.g. "/users/{id}"), on a worker thread, with any query. A literal segment wins over a
  // capture. Throws ConfigError when the same method and pattern are added twice. Only during
  // init.
  virtual void add(const std::string& method, const std::string& pattern, RouteHandler handler) = 0;

  // Since SDK 1.1 (a plugin using it needs a host of ABI 1.1 or later): as add() above, served as
  // `options` say. Throws ConfigError as add() does, and when a query parameter name is empty or
  // listed twice.
  virtual void add(const std::string& method, const std::string& pattern, RouteHandler handler,
                   const RouteOptions& options) = 0;
};

}  // namespace busbar

// HTTP routes: how a module serves requests through the host's server.
//
// The host owns the server: it answers unknown paths with 404, wrong methods with 405 and an
// Allow header, bodies over http.max_body with 413, non-JSON bodies with 415 and JSON bodies that
// are not UTF-8 with 400, callers without the token a route needs with 401 or 403 (RouteAccess),
// all as {"error": "..."}. Handlers run several at once: on the server's worker threads, or, for a
// route that declares it never blocks, on the event loop thread that read the request.
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

// Scopes a bearer token may hold; since SDK 1.5. A module may name scopes of its own besides
// these ([a-z][a-z0-9_-]*, at most 32 characters), which host.conf then gives to tokens.
inline constexpr const char* kScopeRead = "read";    // by default, GET and HEAD routes
inline constexpr const char* kScopeWrite = "write";  // by default, routes of every other method
inline constexpr const char* kScopeAdmin = "admin";  // by default, the admin listener's routes
// Not a scope: a route anyone may call, with or without a token (a webhook that checks its own
// signature, a login).
inline constexpr const char* kScopePublic = "public";

// Who may call a route; since SDK 1.5. Its layout is part of the ABI, as RouteOptions'.
//
// With [http] auth = bearer, a request must carry "Authorization: Bearer <token>" with a token
// whose [token.<name>] section in host.conf lists the route's scope: without one it gets 401,
// with one that lacks the scope 403. Routes needing kScopeRead stay open to anyone while
// [http] open_reads = true (the default). With auth = off every route is open.
struct RouteAccess {
  // The scope the caller's token must hold: one of the kScope* above, or a module's own. Empty:
  // by method, kScopeRead for GET and HEAD and kScopeWrite for every other method, which is what
  // a route added without RouteAccess gets (on the admin listener: kScopeAdmin).
  std::string scope;
};

// The caller of a request as the host authenticated it; since SDK 1.5. Its layout is part of the
// ABI.
struct Caller {
  // The name of the caller's token (its [token.<name>] section), "" for a request without a
  // valid token (a route open to it, or auth = off).
  std::string principal;
  std::vector<std::string> scopes;  // the token's scopes, sorted; none without a token

  bool anonymous() const { return principal.empty(); }
  bool holds(const std::string& scope) const {
    for (const auto& held : scopes) {
      if (held == scope) return true;
    }
    return false;
  }
};

// A handler that also gets the caller; since SDK 1.5.
using CallerRouteHandler = std::function<void(const HttpRequest&, const Caller&, HttpResponse&)>;

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

  // Since SDK 1.5 (a plugin using it needs a host of ABI 1.5 or later): as add() above, callable
  // by whom `access` says, with `handler` given the caller. Throws ConfigError as add() does, and
  // when access.scope is neither empty, kScopePublic nor a scope name ([a-z][a-z0-9_-]*, at most
  // 32 characters). The host overrides it; this default, for a plugin's own stand-in Routes in
  // its tests, serves the route to an anonymous caller.
  virtual void add(const std::string& method, const std::string& pattern,
                   CallerRouteHandler handler, const RouteOptions& options,
                   const RouteAccess& access) {
    static_cast<void>(access);
    add(
        method, pattern,
        [handler = std::move(handler)](const HttpRequest& request, HttpResponse& response) {
          handler(request, Caller{}, response);
        },
        options);
  }
};

}  // namespace busbar

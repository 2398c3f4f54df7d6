#include "ops/ops_routes.h"

#include <stdexcept>

#include "ops/json_text.h"
#include "ops/never_blocks.h"

namespace busbar::host {
namespace {

// A probe: never blocks, callable by whoever `scope` admits whatever the listener's default.
void addProbe(Routes& routes, const std::string& path, const char* scope, RouteHandler handler) {
  routes.add(
      "GET", path,
      [handler = std::move(handler)](const HttpRequest& request, const Caller&,
                                     HttpResponse& response) { handler(request, response); },
      neverBlocks(), RouteAccess{scope});
}

}  // namespace

void addProbeRoutes(Routes& routes, const ProbeSources& sources) {
  // Load balancers and orchestrators probe without tokens; the metrics are a read.
  addProbe(routes, "/metrics", kScopeRead,
           [&metrics = sources.metrics](const HttpRequest&, HttpResponse& response) {
             response.content_type = "text/plain; version=0.0.4; charset=utf-8";
             response.body = metrics.exposition();
           });

  addProbe(routes, "/livez", kScopePublic,
           [&liveness = sources.liveness](const HttpRequest&, HttpResponse& response) {
             Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
             const std::string problem = liveness.problem();
             body.set("status", problem.empty() ? "alive" : "stalled");
             if (!problem.empty()) {
               body.set("problem", problem);
               response.status = 503;
             }
             response.body = jsonText(body);
           });

  addProbe(routes, "/readyz", kScopePublic,
           [&readiness = sources.readiness](const HttpRequest&, HttpResponse& response) {
             const auto results = readiness.evaluate();
             if (!Readiness::ready(results)) response.status = 503;
             response.body = jsonText(*Readiness::describe(results));
           });

  addProbe(routes, "/health", kScopePublic, [sources](const HttpRequest&, HttpResponse& response) {
    const auto results = sources.readiness.evaluate();
    auto checks = Readiness::describe(results);
    Poco::JSON::Object body;
    body.set("status", Readiness::ready(results) ? "ok" : "not ready");
    body.set("server_id", sources.server_id);
    body.set("failing", checks->getArray("failing"));
    body.set("checks", checks->getArray("checks"));
    sources.health_figures(body);
    response.body = jsonText(body);
  });
}

void addAdminRoutes(Routes& routes, const AdminActions& actions) {
  routes.add(
      "GET", "/admin",
      [listed = actions.more_routes](const HttpRequest&, HttpResponse& response) {
        Poco::JSON::Array routes;
        for (const char* route : {"GET /metrics", "GET /livez", "GET /readyz", "GET /health",
                                  "POST /admin/metrics/reset?metric=NAME", "POST /admin/resync",
                                  "GET /admin/plugins", "GET /admin/config"}) {
          routes.add(std::string(route));
        }
        for (const auto& route : listed) routes.add(route);
        Poco::JSON::Object body;
        body.set("routes", routes);
        response.body = jsonText(body);
      },
      neverBlocks());

  routes.add(
      "POST", "/admin/metrics/reset",
      [&metrics = actions.metrics](const HttpRequest& request, HttpResponse& response) {
        auto named = request.query.find("metric");
        std::vector<std::string> reset;
        try {
          reset = metrics.reset(named != request.query.end() ? named->second : "");
        } catch (const std::invalid_argument& error) {
          throw HttpError(404, error.what());
        }
        Poco::JSON::Object body;
        Poco::JSON::Array names;
        for (const auto& name : reset) names.add(name);
        body.set("reset", names);
        response.body = jsonText(body);
      },
      neverBlocks({"metric"}));

  routes.add(
      "POST", "/admin/resync",
      [resync = actions.resync](const HttpRequest&, HttpResponse& response) {
        resync("an operator asked for it (POST /admin/resync)");
        response.status = 202;
        response.body =
            R"({"status":"requested","detail":"the caches reload from the database in the )"
            R"(background; busbar_event_log_resyncs_total counts it when done"})";
      },
      neverBlocks());

  routes.add(
      "GET", "/admin/plugins",
      [plugins = actions.plugins](const HttpRequest&, HttpResponse& response) {
        Poco::JSON::Object body;
        body.set("plugins", plugins());
        response.body = jsonText(body);
      },
      neverBlocks());

  routes.add(
      "GET", "/admin/config",
      [config = actions.config](const HttpRequest&, HttpResponse& response) {
        response.body = jsonText(*config());
      },
      neverBlocks());
}

}  // namespace busbar::host

// Readiness: whether this server should get traffic, as named checks, each "" when it passes or
// a sentence saying what is wrong. GET /readyz answers 200 or 503 from it, GET /health shows the
// same checks, and the metrics busbar_ready and busbar_readiness_check{check} export them.
//
// Two checks are the server's own states: preload_done (its caches are loaded: set once start()
// reaches HTTP) first, and not_draining (shutdown has begun: set first thing in stop(), before
// any connection closes) last. The checks between are added by the host (storage reachable,
// transport connected, cache fresh) and must return at once: they read what a background probe
// found, never ask the database or the broker themselves.
//
// Thread-safety: add() before serving; the rest from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>

#include "ops/metrics_registry.h"

namespace busbar::host {

class Readiness : public MetricsCollector {
 public:
  // "" when the check passes, else what is wrong. Returns at once.
  using Check = std::function<std::string()>;

  struct Result {
    std::string name;
    std::string problem;  // "" when it passed
  };

  void add(std::string name, Check check);
  void markPreloaded() { preloaded_.store(true); }
  void markDraining() { draining_.store(true); }
  bool draining() const { return draining_.load(); }

  // Every check, in order.
  std::vector<Result> evaluate() const;

  // {"status": "ready" | "not ready", "failing": [names], "checks": [{"name", "ok", "problem"}]}.
  static Poco::JSON::Object::Ptr describe(const std::vector<Result>& results);
  static bool ready(const std::vector<Result>& results);

  std::vector<CollectedFamily> families() const override;
  void collect(PrometheusText& out) const override;

 private:
  std::vector<std::pair<std::string, Check>> checks_;
  std::atomic<bool> preloaded_{false};
  std::atomic<bool> draining_{false};
};

}  // namespace busbar::host

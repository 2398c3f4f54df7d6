#include "ops/readiness.h"

#include <Poco/JSON/Array.h>

namespace busbar::host {

void Readiness::add(std::string name, Check check) {
  checks_.emplace_back(std::move(name), std::move(check));
}

std::vector<Readiness::Result> Readiness::evaluate() const {
  std::vector<Result> results;
  results.push_back({"preload_done", preloaded_.load()
                                         ? ""
                                         : "the caches are still loading (preload), or the "
                                           "server has not started serving yet"});
  for (const auto& [name, check] : checks_) {
    std::string problem;
    try {
      problem = check();
    } catch (const std::exception& error) {
      problem = std::string("the check failed: ") + error.what();
    }
    results.push_back({name, std::move(problem)});
  }
  results.push_back({"not_draining", draining_.load()
                                         ? "the server is shutting down (draining); it "
                                           "finishes the requests in progress"
                                         : ""});
  return results;
}

bool Readiness::ready(const std::vector<Result>& results) {
  for (const auto& result : results) {
    if (!result.problem.empty()) return false;
  }
  return true;
}

Poco::JSON::Object::Ptr Readiness::describe(const std::vector<Result>& results) {
  Poco::JSON::Object::Ptr body = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  body->set("status", ready(results) ? "ready" : "not ready");
  Poco::JSON::Array::Ptr failing = new Poco::JSON::Array;
  Poco::JSON::Array::Ptr checks = new Poco::JSON::Array;
  for (const auto& result : results) {
    Poco::JSON::Object::Ptr check = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    check->set("name", result.name);
    check->set("ok", result.problem.empty());
    if (!result.problem.empty()) {
      check->set("problem", result.problem);
      failing->add(result.name);
    }
    checks->add(check);
  }
  body->set("failing", failing);
  body->set("checks", checks);
  return body;
}

std::vector<CollectedFamily> Readiness::families() const {
  return {{"busbar_ready", MetricType::kGauge}, {"busbar_readiness_check", MetricType::kGauge}};
}

void Readiness::collect(PrometheusText& out) const {
  const auto results = evaluate();
  out.family("busbar_ready", "1 when every readiness check passes (GET /readyz answers 200)",
             MetricType::kGauge);
  out.sample("busbar_ready", {}, static_cast<uint64_t>(ready(results) ? 1 : 0));
  out.family("busbar_readiness_check", "1 when the readiness check passes, by check",
             MetricType::kGauge);
  for (const auto& result : results) {
    out.sample("busbar_readiness_check", {{"check", result.name}},
               static_cast<uint64_t>(result.problem.empty() ? 1 : 0));
  }
}

}  // namespace busbar::host

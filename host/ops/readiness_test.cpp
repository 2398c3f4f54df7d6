#include "ops/readiness.h"

#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>

namespace busbar::host {
namespace {

std::vector<std::string> failing(const std::vector<Readiness::Result>& results) {
  std::vector<std::string> names;
  for (const auto& result : results) {
    if (!result.problem.empty()) names.push_back(result.name);
  }
  return names;
}

TEST(ReadinessTest, PreloadComesFirstDrainingLastAndEachCheckIsNamed) {
  Readiness readiness;
  std::string storage = "the database does not answer";
  readiness.add("storage_reachable", [&] { return storage; });
  readiness.add("transport_connected", [] { return std::string(); });
  auto results = readiness.evaluate();
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results.front().name, "preload_done");
  EXPECT_EQ(results.back().name, "not_draining");
  EXPECT_EQ(failing(results), (std::vector<std::string>{"preload_done", "storage_reachable"}));
  EXPECT_FALSE(Readiness::ready(results));

  readiness.markPreloaded();
  storage.clear();
  EXPECT_TRUE(Readiness::ready(readiness.evaluate()));

  readiness.markDraining();
  EXPECT_EQ(failing(readiness.evaluate()), std::vector<std::string>{"not_draining"});
}

TEST(ReadinessTest, ACheckThatThrowsFailsWithItsReason) {
  Readiness readiness;
  readiness.markPreloaded();
  readiness.add("cache_fresh", []() -> std::string { throw std::runtime_error("no figures"); });
  auto results = readiness.evaluate();
  EXPECT_EQ(results[1].problem, "the check failed: no figures");
}

TEST(ReadinessTest, TheBodyNamesEachFailingCheckWithItsProblem) {
  Readiness readiness;
  readiness.markPreloaded();
  readiness.add("storage_reachable", [] { return std::string("down"); });
  std::ostringstream text;
  Readiness::describe(readiness.evaluate())->stringify(text);
  EXPECT_EQ(text.str(), R"({"status":"not ready","failing":["storage_reachable"],"checks":[)"
                        R"({"name":"preload_done","ok":true},)"
                        R"({"name":"storage_reachable","ok":false,"problem":"down"},)"
                        R"({"name":"not_draining","ok":true}]})");
}

TEST(ReadinessTest, ExportsOneGaugePerCheckAndTheVerdict) {
  Readiness readiness;
  readiness.add("storage_reachable", [] { return std::string(); });
  PrometheusText out;
  readiness.collect(out);
  const std::string& text = out.text();
  EXPECT_NE(text.find("busbar_ready 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("busbar_readiness_check{check=\"preload_done\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("busbar_readiness_check{check=\"storage_reachable\"} 1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace busbar::host

// A real Prometheus server (Debian's prometheus package), started by the test on loopback with a
// config of its own, scrapes two busbar servers; PromQL through its HTTP API then returns the
// series that writes on one server produced, on both servers: busbar's own, and a third-party
// plugin's (the audit example) beside them.
#include <gtest/gtest.h>

#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <Poco/URI.h>

#include "sqlite_server.h"

namespace busbar::testing {
namespace {

const char* const kPrometheus = "/usr/bin/prometheus";

// The result vector of the instant query `promql`: {instance -> value} ("" for a series without
// an instance, an aggregation's).
std::map<std::string, double> query(int port, const std::string& promql) {
  std::string encoded;
  Poco::URI::encode(promql, "+&=?#/{}\"", encoded);
  HttpResult result = httpRequest(port, "GET", "/api/v1/query?query=" + encoded);
  if (result.status != 200) throw std::runtime_error("query answered " + result.body);
  auto body = parseObject(result.body);
  std::map<std::string, double> values;
  auto vector = body->getObject("data")->getArray("result");
  for (size_t i = 0; i < vector->size(); ++i) {
    auto series = vector->getObject(static_cast<unsigned>(i));
    auto value = series->getArray("value");
    auto labels = series->getObject("metric");
    const std::string instance =
        labels->has("instance") ? labels->getValue<std::string>("instance") : "";
    values[instance] = std::stod(value->getElement<std::string>(1));
  }
  return values;
}

TEST(PrometheusTest, APrometheusServerScrapingTwoServersSeesWhatWritesDid) {
  ASSERT_TRUE(Poco::File(kPrometheus).exists())
      << kPrometheus << " is missing: install the Debian package prometheus (scripts/install-deps)";
  TempDir dir;
  // Two servers on one SQLite file: the second learns the first's writes from the event log.
  const std::string config = dir.write(
      "host.conf", "[host]\nplugins = local, sqlite, users, audit\nplugin_dir = " + buildDir() +
                       "/lib/busbar/plugins, " + buildDir() +
                       "/test-modules\n"
                       "[event_bus]\ntransport = local\nexchanges.events = busbar.events\n"
                       "router._all = events\ncatch_up_interval = 100ms\n"
                       "[storage]\ndriver = sqlite\nsqlite.path = " +
                       dir.path() + "/busbar.db\n");
  ServerProcess one(config);
  ServerProcess two(config);
  one.start();
  two.start();
  const std::string a = "127.0.0.1:" + std::to_string(one.port());
  const std::string b = "127.0.0.1:" + std::to_string(two.port());

  const int prometheus_port = freePort();
  dir.write("prometheus.yml",
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: busbar\n    static_configs:\n"
            "      - targets: ['" +
                a + "', '" + b + "']\n");
  ChildProcess prometheus(
      kPrometheus,
      {"--config.file=" + dir.path() + "/prometheus.yml",
       "--storage.tsdb.path=" + dir.path() + "/tsdb",
       "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port), "--log.level=warn"},
      dir.path());
  prometheus.start();
  ASSERT_TRUE(eventually(
      [&] {
        try {
          auto up = query(prometheus_port, "up{job=\"busbar\"}");
          return up.size() == 2 && up[a] == 1 && up[b] == 1;
        } catch (const std::exception&) {
          return false;
        }
      },
      std::chrono::seconds(30)))
      << prometheus.output();

  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(one.request("PUT", "/users/p" + std::to_string(i), R"({"name":"P"})").status, 201);
  }
  // Scrapes after the writes bring every figure up on both servers.
  std::map<std::string, double> puts;
  std::map<std::string, double> rows;
  std::map<std::string, double> audited;
  EXPECT_TRUE(eventually(
      [&] {
        puts =
            query(prometheus_port,
                  R"(busbar_http_requests_total{method="PUT",route="/users/{id}",status="2xx"})");
        rows = query(prometheus_port, R"(busbar_cache_rows{module="users"})");
        audited = query(prometheus_port, "audit_events_recorded_total");
        return puts.size() == 1 && puts[a] == 5 && rows.size() == 2 && rows[a] == 5 &&
               rows[b] == 5 && audited.size() == 2 && audited[a] == 5 && audited[b] == 5;
      },
      std::chrono::seconds(30)))
      << "PUTs " << puts.size() << ", cache rows " << rows.size() << " (" << rows[a] << ", "
      << rows[b] << "), audited " << audited.size() << "\n"
      << prometheus.output();
  // PromQL over both servers: an aggregation, and a quantile of busbar's latency histogram.
  EXPECT_EQ(query(prometheus_port, "sum(busbar_ready)")[""], 2);
  auto p99 = query(
      prometheus_port,
      R"(histogram_quantile(0.99, sum by (le) (busbar_http_request_duration_seconds_bucket{route="/users/{id}",method="PUT"})))");
  ASSERT_EQ(p99.size(), 1u);
  EXPECT_GT(p99[""], 0);
  EXPECT_LE(p99[""], 10);
  EXPECT_EQ(prometheus.stop(), 0) << prometheus.output();
  EXPECT_EQ(one.stop(), 0) << one.output();
  EXPECT_EQ(two.stop(), 0) << two.output();
}

}  // namespace
}  // namespace busbar::testing

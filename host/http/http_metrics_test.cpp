#include "http/http_metrics.h"

#include <gtest/gtest.h>

namespace busbar::host {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

HttpRouter routes() {
  HttpRouter router;
  router.add("GET", "/users/{id}", [](const HttpRequest&, HttpResponse&) {});
  router.add("PUT", "/users/{id}", [](const HttpRequest&, HttpResponse&) {});
  return router;
}

TEST(HttpMetricsTest, TheLoopsCellsAddUpByRouteMethodAndStatusClass) {
  HttpRouter router = routes();
  HttpMetrics metrics;
  auto& listener = metrics.addListener("public", router, 2);
  const size_t get = router.match("GET", "/users/a").endpoint->index;
  const size_t put = router.match("PUT", "/users/a").endpoint->index;
  listener.loop(0).record(get, HttpMetrics::kGet, 200, microseconds(50));
  listener.loop(1).record(get, HttpMetrics::kGet, 200, milliseconds(3));
  listener.loop(1).record(get, HttpMetrics::kGet, 404, microseconds(80));
  listener.loop(0).record(put, HttpMetrics::kPut, 503, milliseconds(20));
  listener.loop(0).record(listener.unmatched(), HttpMetrics::kOtherMethod, 501, microseconds(1));

  PrometheusText out;
  metrics.collect(out);
  const std::string& text = out.text();
  auto has = [&](const std::string& line) {
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << line << "\n" << text;
  };
  has(R"(busbar_http_requests_total{listener="public",method="GET",route="/users/{id}",status="2xx"} 2)");
  has(R"(busbar_http_requests_total{listener="public",method="GET",route="/users/{id}",status="4xx"} 1)");
  has(R"(busbar_http_requests_total{listener="public",method="PUT",route="/users/{id}",status="5xx"} 1)");
  has(R"m(busbar_http_requests_total{listener="public",method="other",route="(unmatched)",status="5xx"} 1)m");
  has(R"(busbar_http_request_duration_seconds_bucket{listener="public",method="GET",route="/users/{id}",le="0.0001"} 2)");
  has(R"(busbar_http_request_duration_seconds_bucket{listener="public",method="GET",route="/users/{id}",le="0.0025"} 2)");
  has(R"(busbar_http_request_duration_seconds_bucket{listener="public",method="GET",route="/users/{id}",le="0.005"} 3)");
  has(R"(busbar_http_request_duration_seconds_count{listener="public",method="GET",route="/users/{id}"} 3)");
  has(R"(busbar_http_request_duration_seconds_sum{listener="public",method="GET",route="/users/{id}"} 0.00313)");
  // Series appear once counted: nothing for HEAD, nothing 3xx.
  EXPECT_EQ(text.find(R"(method="HEAD")"), std::string::npos) << text;
  EXPECT_EQ(text.find(R"(status="3xx")"), std::string::npos) << text;
  has(R"(busbar_http_connections_open{listener="public"} 0)");
}

TEST(HttpMetricsTest, OpenConnectionsAreReadWhileTheListenerServes) {
  HttpRouter router = routes();
  HttpMetrics metrics;
  auto& listener = metrics.addListener("admin", router, 1);
  listener.attach([] { return 3; });
  PrometheusText serving;
  metrics.collect(serving);
  EXPECT_NE(serving.text().find("busbar_http_connections_open{listener=\"admin\"} 3\n"),
            std::string::npos);
  listener.detach();
  PrometheusText stopped;
  metrics.collect(stopped);
  EXPECT_NE(stopped.text().find("busbar_http_connections_open{listener=\"admin\"} 0\n"),
            std::string::npos);
}

TEST(HttpMetricsTest, MethodsAreABoundedSet) {
  EXPECT_EQ(HttpMetrics::methodOf(HTTP_GET), HttpMetrics::kGet);
  EXPECT_EQ(HttpMetrics::methodOf(HTTP_HEAD), HttpMetrics::kHead);
  EXPECT_EQ(HttpMetrics::methodOf(HTTP_DELETE), HttpMetrics::kDelete);
  EXPECT_EQ(HttpMetrics::methodOf(HTTP_PROPFIND), HttpMetrics::kOtherMethod);
}

}  // namespace
}  // namespace busbar::host

#include "ops/prometheus_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace busbar::host {
namespace {

TEST(PrometheusTextTest, NumbersAreWrittenShortAndExact) {
  EXPECT_EQ(formatMetricValue(0), "0");
  EXPECT_EQ(formatMetricValue(42), "42");
  EXPECT_EQ(formatMetricValue(-3), "-3");
  EXPECT_EQ(formatMetricValue(0.1), "0.1");
  EXPECT_EQ(formatMetricValue(0.0005), "0.0005");
  EXPECT_EQ(formatMetricValue(2.5), "2.5");
  EXPECT_EQ(formatMetricValue(1796141751.851936), "1.796141751851936e+09");
  EXPECT_EQ(formatMetricValue(0.00001), "1e-05");
  EXPECT_EQ(formatMetricValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(formatMetricValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(formatMetricValue(std::nan("")), "NaN");
}

TEST(PrometheusTextTest, HelpAndLabelValuesAreEscaped) {
  PrometheusText out;
  out.family("odd_total", "back\\slash and\nnewline \"quotes\" stay", MetricType::kCounter);
  out.sample("odd_total", {{"path", "C:\\dir\n\"x\""}}, uint64_t{1});
  EXPECT_EQ(out.text(),
            "# HELP odd_total back\\\\slash and\\nnewline \"quotes\" stay\n"
            "# TYPE odd_total counter\n"
            "odd_total{path=\"C:\\\\dir\\n\\\"x\\\"\"} 1\n");
}

TEST(PrometheusTextTest, HistogramBucketsAreCumulativeAndCountIsTheLast) {
  PrometheusText out;
  out.family("wait_seconds", "Wait", MetricType::kHistogram);
  out.histogram("wait_seconds", {{"queue", "a"}}, {0.5, 1}, {2, 0, 3}, 4.25);
  EXPECT_EQ(out.text(),
            "# HELP wait_seconds Wait\n"
            "# TYPE wait_seconds histogram\n"
            "wait_seconds_bucket{queue=\"a\",le=\"0.5\"} 2\n"
            "wait_seconds_bucket{queue=\"a\",le=\"1\"} 2\n"
            "wait_seconds_bucket{queue=\"a\",le=\"+Inf\"} 5\n"
            "wait_seconds_sum{queue=\"a\"} 4.25\n"
            "wait_seconds_count{queue=\"a\"} 5\n");
}

}  // namespace
}  // namespace busbar::host

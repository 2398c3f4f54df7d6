// PrometheusText: metric families written in the Prometheus text exposition format, version
// 0.0.4 (what GET /metrics answers, as text/plain; version=0.0.4).
//
// Each family is a # HELP and a # TYPE line followed by its samples; a histogram's samples are
// its cumulative _bucket series (with le, ending at +Inf), _sum and _count. Help text and label
// values are escaped as the format says; numbers are written in their shortest exact form.
//
// Thread-safety: one object per export, used by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "busbar/metrics.h"

namespace busbar::host {

enum class MetricType { kCounter, kGauge, kHistogram };

// "counter", "gauge", "histogram".
const char* metricTypeName(MetricType type);

// `value` as the format writes numbers: integers without a fraction, NaN, +Inf, -Inf, else the
// shortest text that reads back as the same double, in %g style as Prometheus' own clients
// write them (0.0005, 1e-05).
std::string formatMetricValue(double value);

class PrometheusText {
 public:
  // Starts the family `name`.
  void family(std::string_view name, std::string_view help, MetricType type);

  // One sample of a counter or gauge.
  void sample(std::string_view name, const MetricLabels& labels, double value);
  void sample(std::string_view name, const MetricLabels& labels, uint64_t value);

  // The samples of one histogram series: `counts` holds one count per bucket of `bounds`, then
  // the +Inf bucket's, each not cumulative.
  void histogram(std::string_view name, const MetricLabels& labels,
                 const std::vector<double>& bounds, const std::vector<uint64_t>& counts,
                 double sum);

  const std::string& text() const { return out_; }

 private:
  void series(std::string_view name, std::string_view suffix, const MetricLabels& labels,
              const std::string* le);

  std::string out_;
};

}  // namespace busbar::host

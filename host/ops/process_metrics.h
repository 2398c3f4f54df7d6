// ProcessMetrics: the process_* figures every Prometheus client library exports (CPU time,
// memory, file descriptors and their limit, start time), read from /proc/self at each scrape.
// An operator sizing LimitNOFILE against [http] max_connections reads process_open_fds here.
//
// Thread-safety: as a MetricsCollector.
#pragma once

#include "ops/metrics_registry.h"

namespace busbar::host {

class ProcessMetrics : public MetricsCollector {
 public:
  std::vector<CollectedFamily> families() const override;
  void collect(PrometheusText& out) const override;
};

}  // namespace busbar::host

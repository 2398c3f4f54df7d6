// HostMetricsRegistry: every metric this server exports at GET /metrics, the plugins' and the
// host's, and the text of an export.
//
// Two kinds of families live here. Families of cells: counters, gauges, histograms and readers
// that plugins create through the SDK's MetricsRegistry (PluginContext::metrics()), and that the
// host creates the same way for its own figures. And families of collectors: host objects that
// keep figures of their own (per-loop HTTP counters, the event log's figures) and write them at
// each export. One name is one family, whoever adds it; a clash of kinds, help, label names or
// buckets is refused with ConfigError naming the metric.
//
// Creating takes the registry's lock; updating a cell takes none (metric_cells.h). An export
// takes the lock, reads every cell and reader and runs every collector; readers and collectors
// must return at once. reset() zeroes counters and histograms only, for an operator's before and
// after (POST /admin/metrics/reset); gauges and readers report state and are never reset.
//
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "busbar/metrics.h"
#include "ops/metric_cells.h"
#include "ops/prometheus_text.h"

namespace busbar::host {

// A family a collector writes.
struct CollectedFamily {
  std::string name;
  MetricType type;
  bool resettable = false;  // the collector's reset() can zero it
};

// Host figures kept outside the registry, written at each export.
class MetricsCollector {
 public:
  virtual ~MetricsCollector() = default;
  // The families collect() writes; fixed for the collector's life.
  virtual std::vector<CollectedFamily> families() const = 0;
  // Writes every family of families(), each once. Must return at once.
  virtual void collect(PrometheusText& out) const = 0;
  // Zeroes the family `name` (one of families() marked resettable).
  virtual void reset(const std::string& name) { (void)name; }
};

class HostMetricsRegistry final : public MetricsRegistry {
 public:
  HostMetricsRegistry();
  ~HostMetricsRegistry() override;

  Counter& counter(const std::string& name, const std::string& help,
                   const MetricLabels& labels = {}) override;
  Gauge& gauge(const std::string& name, const std::string& help,
               const MetricLabels& labels = {}) override;
  Histogram& histogram(const std::string& name, const std::string& help,
                       const std::vector<double>& buckets,
                       const MetricLabels& labels = {}) override;
  void counterReader(const std::string& name, const std::string& help, const MetricLabels& labels,
                     MetricReader read) override;
  void gaugeReader(const std::string& name, const std::string& help, const MetricLabels& labels,
                   MetricReader read) override;

  // The same, as the concrete cells, for the host's hot paths.
  CounterCell& counterCell(const std::string& name, const std::string& help,
                           const MetricLabels& labels = {});
  GaugeCell& gaugeCell(const std::string& name, const std::string& help,
                       const MetricLabels& labels = {});
  HistogramCell& histogramCell(const std::string& name, const std::string& help,
                               const std::vector<double>& buckets, const MetricLabels& labels = {});

  // Adds the families `collector` writes; it must outlive the registry. Throws ConfigError when
  // one of its names is taken.
  void addCollector(MetricsCollector& collector);

  // Every family in the text format 0.0.4: cell families by name, then the collectors' in the
  // order they were added.
  std::string exposition() const;

  // Zeroes the counters and histograms of the family `name`, or of every family when `name` is
  // empty. Returns the families reset; throws std::invalid_argument naming the resettable ones
  // when `name` is not one of them.
  std::vector<std::string> reset(const std::string& name);

 private:
  struct Series;
  struct Family;

  // The cell behind a series (the series' reader when `read` is set): found or created.
  struct Cell {
    CounterCell* counter = nullptr;
    GaugeCell* gauge = nullptr;
    HistogramCell* histogram = nullptr;
  };
  Cell series(const std::string& name, const std::string& help, MetricType type,
              const std::vector<double>* buckets, const MetricLabels& labels, MetricReader read);
  std::vector<std::string> resettableLocked() const;

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Family>> families_;
  std::vector<MetricsCollector*> collectors_;
  std::map<std::string, MetricsCollector*> collected_;  // family name -> its collector
};

}  // namespace busbar::host

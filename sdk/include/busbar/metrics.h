// Metrics: the figures a plugin reports, which the host exports beside its own at GET /metrics
// in the Prometheus text format. Since SDK 1.1.
//
// A plugin gets the host's MetricsRegistry from PluginContext::metrics() and creates its metrics
// in init(). Creating is cheap but takes a lock; updating a Counter, Gauge or Histogram is
// lock-free, allocates nothing and is safe from any thread, so it belongs on hot paths. A figure
// the plugin keeps anyway (an atomic counter, a queue's length) is better exported through a
// reader, which the host calls only when it exports.
//
// Names follow Prometheus' conventions, and the registry refuses others: [a-zA-Z_:][a-zA-Z0-9_:]*,
// prefixed by what they belong to (busbar's own start with busbar_), in base units (seconds,
// bytes), a counter's name ends in _total, no other kind's does. Labels tell apart a bounded set of
// things (a connection, a module); never a user, an id or anything else without bound, since each
// set of label values is a series the monitoring system keeps forever. Several plugins may add
// series to one family (same name, kind, help, label names and buckets).
//
// The registry outlives every plugin; what it returns is valid for the plugin's whole life.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "busbar/export.h"

namespace busbar {

// Label names and values of one series, e.g. {{"connection", "publisher"}}. Names match
// [a-zA-Z_][a-zA-Z0-9_]* and do not start with "__"; "le" is reserved for histogram buckets.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// A count of things that happened, which only goes up: events published, errors.
class BUSBAR_API Counter {
 public:
  virtual ~Counter() = default;
  // Adds `by`. Lock-free, thread-safe.
  virtual void increment(uint64_t by = 1) = 0;
};

// A value that goes up and down: connections open, messages waiting.
class BUSBAR_API Gauge {
 public:
  virtual ~Gauge() = default;
  // Lock-free, thread-safe.
  virtual void set(double value) = 0;
  // Adds `delta` (negative to subtract). Lock-free, thread-safe.
  virtual void add(double delta) = 0;
};

// Observed values (durations in seconds, sizes in bytes) counted in buckets, with their sum.
class BUSBAR_API Histogram {
 public:
  virtual ~Histogram() = default;
  // Counts `value` in the first bucket whose upper bound is >= value. Lock-free, thread-safe.
  virtual void observe(double value) = 0;
};

// Reads a figure when the host exports. Called from the host's HTTP threads, only between the
// plugin's start() and stop(); must return at once (no I/O, no lock held across anything slow).
using MetricReader = std::function<double()>;

// Where a plugin creates its metrics. Implemented by the host. Thread-safe.
class BUSBAR_API MetricsRegistry {
 public:
  virtual ~MetricsRegistry() = default;

  // The counter `name` (ending in _total) with `labels`, created at 0 the first time and the same
  // object after that. Throws ConfigError for a bad name or label, or when `name` is taken by a
  // family of another kind, help or label names.
  virtual Counter& counter(const std::string& name, const std::string& help,
                           const MetricLabels& labels = {}) = 0;

  // The gauge `name` with `labels`, created at 0 the first time. Throws as counter() does.
  virtual Gauge& gauge(const std::string& name, const std::string& help,
                       const MetricLabels& labels = {}) = 0;

  // The histogram `name` with `labels` and the upper bounds `buckets` (finite, increasing; the
  // +Inf bucket is implied), created empty the first time. Throws as counter() does, and for
  // bad buckets or buckets other than the family's.
  virtual Histogram& histogram(const std::string& name, const std::string& help,
                               const std::vector<double>& buckets,
                               const MetricLabels& labels = {}) = 0;

  // Exports `read()` as the counter `name` (ending in _total) with `labels`. Throws as counter()
  // does, and when the series exists already.
  virtual void counterReader(const std::string& name, const std::string& help,
                             const MetricLabels& labels, MetricReader read) = 0;

  // Exports `read()` as the gauge `name` with `labels`. Throws as counterReader() does.
  virtual void gaugeReader(const std::string& name, const std::string& help,
                           const MetricLabels& labels, MetricReader read) = 0;
};

}  // namespace busbar

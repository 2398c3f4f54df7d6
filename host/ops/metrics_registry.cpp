#include "ops/metrics_registry.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "busbar/errors.h"

namespace busbar::host {
namespace {

bool endsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool isMetricName(const std::string& name) {
  if (name.empty() || name.rfind("__", 0) == 0) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool isLabelName(const std::string& name) {
  return isMetricName(name) && name.find(':') == std::string::npos;
}

[[noreturn]] void refuse(const std::string& name, const std::string& why) {
  throw ConfigError("metric '" + name + "': " + why);
}

void checkName(const std::string& name, MetricType type) {
  if (!isMetricName(name)) {
    refuse(name, "a name is [a-zA-Z_:][a-zA-Z0-9_:]* and does not start with \"__\"");
  }
  const bool total = endsWith(name, "_total");
  if (type == MetricType::kCounter && !total) refuse(name, "a counter's name ends in _total");
  if (type != MetricType::kCounter && total) {
    refuse(name, "only a counter's name ends in _total");
  }
  for (const char* suffix : {"_bucket", "_count", "_sum"}) {
    if (endsWith(name, suffix)) {
      refuse(name,
             std::string("a name does not end in ") + suffix + ", which a histogram's series use");
    }
  }
}

// The labels sorted by name, checked.
MetricLabels normalized(const std::string& name, MetricType type, const MetricLabels& labels) {
  MetricLabels sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    const std::string& label = sorted[i].first;
    if (!isLabelName(label)) {
      refuse(name, "label '" + label +
                       "': a label name is [a-zA-Z_][a-zA-Z0-9_]* and does not start with \"__\"");
    }
    if (type == MetricType::kHistogram && label == "le") {
      refuse(name, "label 'le' is the histogram's own");
    }
    if (i > 0 && sorted[i - 1].first == label) refuse(name, "label '" + label + "' is given twice");
  }
  return sorted;
}

void checkBuckets(const std::string& name, const std::vector<double>& buckets) {
  if (buckets.empty()) refuse(name, "a histogram needs at least one bucket");
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (!std::isfinite(buckets[i])) refuse(name, "bucket bounds are finite (+Inf is implied)");
    if (i > 0 && buckets[i] <= buckets[i - 1]) {
      refuse(name, "bucket bounds go strictly up");
    }
  }
}

std::vector<std::string> namesOf(const MetricLabels& labels) {
  std::vector<std::string> names;
  for (const auto& [label, value] : labels) names.push_back(label);
  return names;
}

std::string commaJoined(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return text.empty() ? "none" : text;
}

}  // namespace

struct HostMetricsRegistry::Series {
  MetricLabels labels;
  std::unique_ptr<CounterCell> counter;
  std::unique_ptr<GaugeCell> gauge;
  std::unique_ptr<HistogramCell> histogram;
  MetricReader reader;
};

struct HostMetricsRegistry::Family {
  std::string help;
  MetricType type;
  std::vector<std::string> label_names;
  std::vector<double> buckets;
  std::vector<Series> series;
};

HostMetricsRegistry::HostMetricsRegistry() = default;
HostMetricsRegistry::~HostMetricsRegistry() = default;

HostMetricsRegistry::Cell HostMetricsRegistry::series(const std::string& name,
                                                      const std::string& help, MetricType type,
                                                      const std::vector<double>* buckets,
                                                      const MetricLabels& labels,
                                                      MetricReader read) {
  const bool reader = static_cast<bool>(read);
  checkName(name, type);
  if (help.empty()) refuse(name, "the help text says what it counts; it is empty");
  if (help.find('\n') != std::string::npos) refuse(name, "the help text is one line");
  MetricLabels sorted = normalized(name, type, labels);
  if (buckets != nullptr) checkBuckets(name, *buckets);

  std::lock_guard<std::mutex> lock(mutex_);
  if (collected_.count(name) != 0) refuse(name, "the name is the host's own");
  auto& slot = families_[name];
  if (!slot) {
    slot = std::make_unique<Family>();
    slot->help = help;
    slot->type = type;
    slot->label_names = namesOf(sorted);
    if (buckets != nullptr) slot->buckets = *buckets;
  }
  Family& family = *slot;
  if (family.type != type) {
    refuse(name, std::string("the name is a ") + metricTypeName(family.type) + " already, not a " +
                     metricTypeName(type));
  }
  if (family.help != help) refuse(name, "the family's help text is '" + family.help + "'");
  if (family.label_names != namesOf(sorted)) {
    refuse(name, "the family's label names are " + commaJoined(family.label_names) + ", not " +
                     commaJoined(namesOf(sorted)));
  }
  if (buckets != nullptr && family.buckets != *buckets) {
    refuse(name, "the family has other bucket bounds");
  }
  for (auto& existing : family.series) {
    if (existing.labels != sorted) continue;
    if (reader || existing.reader) refuse(name, "this series exists already");
    return Cell{existing.counter.get(), existing.gauge.get(), existing.histogram.get()};
  }
  Series created;
  created.labels = std::move(sorted);
  created.reader = std::move(read);
  if (!reader) {
    switch (type) {
      case MetricType::kCounter:
        created.counter = std::make_unique<CounterCell>();
        break;
      case MetricType::kGauge:
        created.gauge = std::make_unique<GaugeCell>();
        break;
      case MetricType::kHistogram:
        created.histogram = std::make_unique<HistogramCell>(family.buckets);
        break;
    }
  }
  Cell cell{created.counter.get(), created.gauge.get(), created.histogram.get()};
  family.series.push_back(std::move(created));
  return cell;
}

Counter& HostMetricsRegistry::counter(const std::string& name, const std::string& help,
                                      const MetricLabels& labels) {
  return counterCell(name, help, labels);
}

Gauge& HostMetricsRegistry::gauge(const std::string& name, const std::string& help,
                                  const MetricLabels& labels) {
  return gaugeCell(name, help, labels);
}

Histogram& HostMetricsRegistry::histogram(const std::string& name, const std::string& help,
                                          const std::vector<double>& buckets,
                                          const MetricLabels& labels) {
  return histogramCell(name, help, buckets, labels);
}

CounterCell& HostMetricsRegistry::counterCell(const std::string& name, const std::string& help,
                                              const MetricLabels& labels) {
  return *series(name, help, MetricType::kCounter, nullptr, labels, {}).counter;
}

GaugeCell& HostMetricsRegistry::gaugeCell(const std::string& name, const std::string& help,
                                          const MetricLabels& labels) {
  return *series(name, help, MetricType::kGauge, nullptr, labels, {}).gauge;
}

HistogramCell& HostMetricsRegistry::histogramCell(const std::string& name, const std::string& help,
                                                  const std::vector<double>& buckets,
                                                  const MetricLabels& labels) {
  return *series(name, help, MetricType::kHistogram, &buckets, labels, {}).histogram;
}

void HostMetricsRegistry::counterReader(const std::string& name, const std::string& help,
                                        const MetricLabels& labels, MetricReader read) {
  if (!read) refuse(name, "the reader is empty");
  series(name, help, MetricType::kCounter, nullptr, labels, std::move(read));
}

void HostMetricsRegistry::gaugeReader(const std::string& name, const std::string& help,
                                      const MetricLabels& labels, MetricReader read) {
  if (!read) refuse(name, "the reader is empty");
  series(name, help, MetricType::kGauge, nullptr, labels, std::move(read));
}

void HostMetricsRegistry::addCollector(MetricsCollector& collector) {
  const auto families = collector.families();
  std::lock_guard<std::mutex> lock(mutex_);
  std::set<std::string> names;
  for (const auto& family : families) {
    checkName(family.name, family.type);
    if (families_.count(family.name) != 0 || collected_.count(family.name) != 0 ||
        !names.insert(family.name).second) {
      refuse(family.name, "the name is taken");
    }
  }
  for (const auto& family : families) collected_[family.name] = &collector;
  collectors_.push_back(&collector);
}

std::string HostMetricsRegistry::exposition() const {
  PrometheusText out;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [name, family] : families_) {
    out.family(name, family->help, family->type);
    for (const auto& series : family->series) {
      if (series.reader) {
        double value;
        try {
          value = series.reader();
        } catch (const std::exception&) {
          continue;  // a reader that cannot tell leaves its series out of this export
        }
        out.sample(name, series.labels, value);
      } else if (series.counter) {
        out.sample(name, series.labels, series.counter->value());
      } else if (series.gauge) {
        out.sample(name, series.labels, series.gauge->value());
      } else if (series.histogram) {
        auto snapshot = series.histogram->snapshot();
        out.histogram(name, series.labels, family->buckets, snapshot.counts, snapshot.sum);
      }
    }
  }
  for (const auto* collector : collectors_) collector->collect(out);
  return out.text();
}

std::vector<std::string> HostMetricsRegistry::resettableLocked() const {
  std::vector<std::string> names;
  for (const auto& [name, family] : families_) {
    if (family->type == MetricType::kGauge) continue;
    const bool has_cells = std::any_of(family->series.begin(), family->series.end(),
                                       [](const Series& series) { return !series.reader; });
    if (has_cells) names.push_back(name);
  }
  for (const auto* collector : collectors_) {
    for (const auto& family : collector->families()) {
      if (family.resettable) names.push_back(family.name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> HostMetricsRegistry::reset(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto resettable = resettableLocked();
  std::vector<std::string> chosen;
  if (name.empty()) {
    chosen = resettable;
  } else if (std::find(resettable.begin(), resettable.end(), name) != resettable.end()) {
    chosen = {name};
  } else {
    throw std::invalid_argument(
        "'" + name + "' is not a metric that can be reset; those are: " + commaJoined(resettable));
  }
  for (const auto& chosen_name : chosen) {
    auto collected = collected_.find(chosen_name);
    if (collected != collected_.end()) {
      collected->second->reset(chosen_name);
      continue;
    }
    for (auto& series : families_.at(chosen_name)->series) {
      if (series.counter) series.counter->reset();
      if (series.histogram) series.histogram->reset();
    }
  }
  return chosen;
}

}  // namespace busbar::host

#include "ops/metrics_registry.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include "busbar/errors.h"

namespace busbar::host {
namespace {

// A collector with one resettable counter family of its own.
class FixedCollector : public MetricsCollector {
 public:
  std::vector<CollectedFamily> families() const override {
    return {{"fixed_things_total", MetricType::kCounter, /*resettable=*/true}};
  }
  void collect(PrometheusText& out) const override {
    out.family("fixed_things_total", "Things", MetricType::kCounter);
    out.sample("fixed_things_total", {}, things);
  }
  void reset(const std::string& name) override {
    if (name == "fixed_things_total") things = 0;
  }
  uint64_t things = 7;
};

TEST(HostMetricsRegistryTest, ExportsEveryKindInTheTextFormat) {
  HostMetricsRegistry registry;
  registry.counter("demo_requests_total", "Requests", {{"code", "200"}}).increment(3);
  registry.gauge("demo_temperature_celsius", "Temperature").set(21.5);
  auto& latency = registry.histogram("demo_latency_seconds", "Latency", {0.1, 1});
  latency.observe(0.05);
  latency.observe(0.5);
  latency.observe(7);
  registry.gaugeReader("demo_queue_messages", "Queue", {{"queue", "a\"b"}}, [] { return 4.0; });
  EXPECT_EQ(registry.exposition(),
            "# HELP demo_latency_seconds Latency\n"
            "# TYPE demo_latency_seconds histogram\n"
            "demo_latency_seconds_bucket{le=\"0.1\"} 1\n"
            "demo_latency_seconds_bucket{le=\"1\"} 2\n"
            "demo_latency_seconds_bucket{le=\"+Inf\"} 3\n"
            "demo_latency_seconds_sum 7.55\n"
            "demo_latency_seconds_count 3\n"
            "# HELP demo_queue_messages Queue\n"
            "# TYPE demo_queue_messages gauge\n"
            "demo_queue_messages{queue=\"a\\\"b\"} 4\n"
            "# HELP demo_requests_total Requests\n"
            "# TYPE demo_requests_total counter\n"
            "demo_requests_total{code=\"200\"} 3\n"
            "# HELP demo_temperature_celsius Temperature\n"
            "# TYPE demo_temperature_celsius gauge\n"
            "demo_temperature_celsius 21.5\n");
}

TEST(HostMetricsRegistryTest, OneSeriesIsOneCellWhateverTheOrderOfItsLabels) {
  HostMetricsRegistry registry;
  Counter& first = registry.counter("demo_total", "Demo", {{"a", "1"}, {"b", "2"}});
  Counter& again = registry.counter("demo_total", "Demo", {{"b", "2"}, {"a", "1"}});
  Counter& other = registry.counter("demo_total", "Demo", {{"a", "1"}, {"b", "3"}});
  EXPECT_EQ(&first, &again);
  EXPECT_NE(&first, &other);
  first.increment();
  again.increment();
  EXPECT_NE(registry.exposition().find("demo_total{a=\"1\",b=\"2\"} 2\n"), std::string::npos);
}

TEST(HostMetricsRegistryTest, RefusesWhatBreaksTheConventions) {
  HostMetricsRegistry registry;
  registry.counter("taken_total", "Taken", {{"kind", "x"}});
  registry.histogram("taken_seconds", "Taken", {1, 2});
  auto refused = [&](const std::function<void()>& create, const std::string& reason) {
    try {
      create();
      ADD_FAILURE() << "accepted; expected: " << reason;
    } catch (const ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find(reason), std::string::npos) << error.what();
    }
  };
  refused([&] { registry.counter("2bad_total", "x"); }, "a name is [a-zA-Z_:]");
  refused([&] { registry.counter("__private_total", "x"); }, "does not start with");
  refused([&] { registry.counter("no_suffix", "x"); }, "a counter's name ends in _total");
  refused([&] { registry.gauge("gauge_total", "x"); }, "only a counter's name ends in _total");
  refused([&] { registry.gauge("things_bucket", "x"); }, "does not end in _bucket");
  refused(
      [&] {
        registry.counter("labelled_total", "x", {{"bad-name", "v"}});
      },
      "label 'bad-name'");
  refused(
      [&] {
        registry.counter("labelled_total", "x", {{"a", "1"}, {"a", "2"}});
      },
      "given twice");
  refused([&] { registry.histogram("h_seconds", "x", {1}, {{"le", "1"}}); }, "'le'");
  refused([&] { registry.histogram("h2_seconds", "x", {2, 1}); }, "strictly up");
  refused([&] { registry.histogram("h3_seconds", "x", {}); }, "at least one bucket");
  refused([&] { registry.counter("empty_help_total", ""); }, "help text");
  refused(
      [&] {
        registry.counter("taken_total", "Other help", {{"kind", "y"}});
      },
      "help text is 'Taken'");
  refused(
      [&] {
        registry.counter("taken_total", "Taken", {{"sort", "y"}});
      },
      "label names are kind");
  refused([&] { registry.gauge("taken_seconds", "Taken"); }, "is a histogram already");
  refused([&] { registry.histogram("taken_seconds", "Taken", {1, 3}); }, "other bucket bounds");
  registry.counterReader("read_total", "Read", {}, [] { return 1.0; });
  refused([&] { registry.counterReader("read_total", "Read", {}, [] { return 2.0; }); },
          "exists already");
  refused([&] { registry.counter("read_total", "Read"); }, "exists already");
  refused([&] { registry.gaugeReader("reader_gauge", "x", {}, nullptr); }, "reader is empty");
}

TEST(HostMetricsRegistryTest, CollectorsKeepTheirNamesAndWriteAtEachExport) {
  HostMetricsRegistry registry;
  FixedCollector collector;
  registry.addCollector(collector);
  EXPECT_THROW(registry.counter("fixed_things_total", "Things"), ConfigError);
  FixedCollector twin;
  EXPECT_THROW(registry.addCollector(twin), ConfigError);
  registry.counter("plugin_things_total", "Plugin things");
  EXPECT_NE(registry.exposition().find("fixed_things_total 7\n"), std::string::npos);
  collector.things = 9;
  EXPECT_NE(registry.exposition().find("fixed_things_total 9\n"), std::string::npos);
}

TEST(HostMetricsRegistryTest, AReaderThatThrowsLeavesItsSeriesOut) {
  HostMetricsRegistry registry;
  registry.gaugeReader("flaky_value", "Flaky", {{"n", "1"}},
                       []() -> double { throw std::runtime_error("gone"); });
  registry.gaugeReader("flaky_value", "Flaky", {{"n", "2"}}, [] { return 2.0; });
  const std::string text = registry.exposition();
  EXPECT_EQ(text.find("flaky_value{n=\"1\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("flaky_value{n=\"2\"} 2\n"), std::string::npos) << text;
}

TEST(HostMetricsRegistryTest, ResetZeroesCountersAndHistogramsNeverGauges) {
  HostMetricsRegistry registry;
  FixedCollector collector;
  registry.addCollector(collector);
  registry.counter("done_total", "Done").increment(5);
  registry.histogram("took_seconds", "Took", {1}).observe(0.5);
  registry.gauge("open_connections", "Open").set(3);
  registry.counterReader("kept_total", "Kept elsewhere", {}, [] { return 11.0; });

  EXPECT_EQ(registry.reset("done_total"), std::vector<std::string>{"done_total"});
  std::string text = registry.exposition();
  EXPECT_NE(text.find("done_total 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("took_seconds_count 1\n"), std::string::npos) << text;

  EXPECT_EQ(registry.reset(""),
            (std::vector<std::string>{"done_total", "fixed_things_total", "took_seconds"}));
  text = registry.exposition();
  EXPECT_NE(text.find("took_seconds_count 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("fixed_things_total 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("open_connections 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("kept_total 11\n"), std::string::npos) << text;

  try {
    registry.reset("open_connections");
    ADD_FAILURE() << "a gauge was reset";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("done_total, fixed_things_total, took_seconds"),
              std::string::npos)
        << error.what();
  }
}

TEST(HostMetricsRegistryTest, ConcurrentUpdatesAreAllCounted) {
  HostMetricsRegistry registry;
  CounterCell& counter = registry.counterCell("hits_total", "Hits");
  GaugeCell& gauge = registry.gaugeCell("level", "Level");
  HistogramCell& histogram = registry.histogramCell("size_bytes", "Size", {10, 100});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        counter.increment();
        gauge.add(1);
        histogram.observe(i % 200);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.value(), 40000u);
  EXPECT_EQ(gauge.value(), 40000.0);
  const auto snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.count(), 40000u);
  EXPECT_EQ(snapshot.counts[0], 4u * 50 * 11);  // 0..10 of every 200
  EXPECT_DOUBLE_EQ(snapshot.sum, 4.0 * 50 * (199.0 * 200 / 2));
}

}  // namespace
}  // namespace busbar::host

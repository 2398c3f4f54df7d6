#include "ops/latency_histogram.h"

#include <thread>

#include <gtest/gtest.h>

namespace busbar::host {
namespace {

TEST(LatencyHistogramTest, PercentilesAreWithinTheBucketResolution) {
  LatencyHistogram histogram;
  for (uint64_t value = 1; value <= 10000; ++value) histogram.record(value);
  auto snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.count, 10000u);
  EXPECT_EQ(snapshot.max, 10000u);
  EXPECT_NEAR(static_cast<double>(snapshot.percentile(0.5)), 5000.0, 5000.0 * 0.07);
  EXPECT_NEAR(static_cast<double>(snapshot.percentile(0.99)), 9900.0, 9900.0 * 0.07);
  EXPECT_EQ(snapshot.percentile(1.0), 10000u);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram histogram;
  for (uint64_t value : {0, 1, 2, 3, 15}) histogram.record(value);
  auto snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.percentile(0.2), 0u);
  EXPECT_EQ(snapshot.percentile(0.6), 2u);
  EXPECT_EQ(snapshot.percentile(1.0), 15u);
}

TEST(LatencyHistogramTest, HugeValuesLandInTheLastBucketAndResetEmpties) {
  LatencyHistogram histogram;
  histogram.record(UINT64_MAX);
  EXPECT_EQ(histogram.snapshot().count, 1u);
  histogram.reset();
  EXPECT_EQ(histogram.snapshot().count, 0u);
  EXPECT_EQ(histogram.snapshot().percentile(0.99), 0u);
}

TEST(LatencyHistogramTest, ConcurrentRecordsAreAllCounted) {
  LatencyHistogram histogram;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) histogram.record(static_cast<uint64_t>(i));
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(histogram.snapshot().count, 40000u);
}

}  // namespace
}  // namespace busbar::host

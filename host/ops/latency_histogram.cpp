#include "ops/latency_histogram.h"

namespace busbar::host {

size_t LatencyHistogram::indexOf(uint64_t value) {
  if (value < kSubBuckets) return static_cast<size_t>(value);
  int magnitude = 63 - __builtin_clzll(value);  // value in [2^m, 2^(m+1))
  int shift = magnitude - 4;                    // 16 sub-buckets per magnitude
  size_t sub = static_cast<size_t>((value >> shift) - kSubBuckets);
  return static_cast<size_t>((magnitude - 3) * kSubBuckets) + sub;
}

uint64_t LatencyHistogram::upperBoundOf(size_t index) {
  if (index < kSubBuckets) return index;
  size_t magnitude = index / kSubBuckets + 3;
  size_t sub = index % kSubBuckets;
  int shift = static_cast<int>(magnitude) - 4;
  return ((kSubBuckets + sub + 1) << shift) - 1;
}

void LatencyHistogram::record(uint64_t microseconds) {
  size_t index = indexOf(microseconds);
  if (index >= kBuckets) index = kBuckets - 1;
  counts_[index].fetch_add(1, std::memory_order_relaxed);
  uint64_t seen = max_.load(std::memory_order_relaxed);
  while (microseconds > seen &&
         !max_.compare_exchange_weak(seen, microseconds, std::memory_order_relaxed)) {
  }
}

LatencyHistogram::Snapshot LatencyHistogram::snapshot() const {
  Snapshot snapshot;
  for (size_t i = 0; i < kBuckets; ++i) {
    uint64_t count = counts_[i].load(std::memory_order_relaxed);
    if (count == 0) continue;
    snapshot.count += count;
    snapshot.buckets.emplace_back(upperBoundOf(i), count);
  }
  snapshot.max = max_.load(std::memory_order_relaxed);
  return snapshot;
}

void LatencyHistogram::reset() {
  for (auto& count : counts_) count.store(0, std::memory_order_relaxed);
  max_.store(0, std::memory_order_relaxed);
}

uint64_t LatencyHistogram::Snapshot::percentile(double fraction) const {
  if (count == 0) return 0;
  auto wanted = static_cast<uint64_t>(fraction * static_cast<double>(count) + 0.5);
  if (wanted == 0) wanted = 1;
  uint64_t seen = 0;
  for (const auto& [bound, bucket_count] : buckets) {
    seen += bucket_count;
    if (seen >= wanted) return bound < max ? bound : max;
  }
  return max;
}

}  // namespace busbar::host

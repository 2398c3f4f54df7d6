// LatencyHistogram: a lock-free histogram of durations in microseconds, for /metrics.
//
// Buckets are log-linear (16 per power of two), so any percentile is read within ~6% of its
// true value at any scale from 1 us to hours. record() is wait-free and safe from any thread;
// snapshot() and reset() may run concurrently with it (a snapshot may miss records in flight).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace busbar::host {

class LatencyHistogram {
 public:
  struct Snapshot {
    uint64_t count = 0;
    uint64_t max = 0;
    std::vector<std::pair<uint64_t, uint64_t>> buckets;  // (upper bound us, count), non-empty

    // The smallest bucket bound below which `fraction` (0..1] of the records fall; 0 if empty.
    uint64_t percentile(double fraction) const;
  };

  void record(uint64_t microseconds);
  Snapshot snapshot() const;
  void reset();

 private:
  static constexpr int kSubBuckets = 16;
  static constexpr int kBuckets = 64 * kSubBuckets;
  static size_t indexOf(uint64_t value);
  static uint64_t upperBoundOf(size_t index);

  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> max_{0};
};

}  // namespace busbar::host

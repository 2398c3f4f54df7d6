// Metric cells: the host's counter, gauge and histogram, the objects behind the SDK's metrics
// interfaces and behind the host's own hot-path figures (called on the concrete type, without a
// virtual call).
//
// Every update is a relaxed atomic operation: no lock, no allocation, safe from any thread. A
// read (an export) may run concurrently and see a histogram's buckets, sum and count a few
// observations apart; reset() zeroes a cell while updates may still land in it.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "busbar/metrics.h"

namespace busbar::host {

// Adds `delta` to a double kept as its bits in `bits`.
inline void addToDoubleBits(std::atomic<uint64_t>& bits, double delta) {
  uint64_t seen = bits.load(std::memory_order_relaxed);
  for (;;) {
    double value;
    std::memcpy(&value, &seen, sizeof value);
    value += delta;
    uint64_t next;
    std::memcpy(&next, &value, sizeof next);
    if (bits.compare_exchange_weak(seen, next, std::memory_order_relaxed)) return;
  }
}

inline double doubleFromBits(const std::atomic<uint64_t>& bits) {
  const uint64_t raw = bits.load(std::memory_order_relaxed);
  double value;
  std::memcpy(&value, &raw, sizeof value);
  return value;
}

class CounterCell final : public Counter {
 public:
  void increment(uint64_t by = 1) override { value_.fetch_add(by, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }
  void reset() { value_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class GaugeCell final : public Gauge {
 public:
  void set(double value) override {
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    bits_.store(bits, std::memory_order_relaxed);
  }
  void add(double delta) override { addToDoubleBits(bits_, delta); }
  double value() const { return doubleFromBits(bits_); }

 private:
  std::atomic<uint64_t> bits_{0};  // 0.0
};

class HistogramCell final : public Histogram {
 public:
  // `bounds`: finite upper bounds in increasing order; the +Inf bucket is added.
  explicit HistogramCell(std::vector<double> bounds)
      : bounds_(std::move(bounds)),
        counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {}

  void observe(double value) override {
    size_t bucket = 0;
    while (bucket < bounds_.size() && value > bounds_[bucket]) ++bucket;
    counts_[bucket].fetch_add(1, std::memory_order_relaxed);
    addToDoubleBits(sum_bits_, value);
  }

  const std::vector<double>& bounds() const { return bounds_; }

  struct Snapshot {
    std::vector<uint64_t> counts;  // per bucket, then +Inf; not cumulative
    double sum = 0;
    uint64_t count() const {
      uint64_t total = 0;
      for (uint64_t count : counts) total += count;
      return total;
    }
  };
  Snapshot snapshot() const {
    Snapshot snapshot;
    snapshot.counts.reserve(bounds_.size() + 1);
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      snapshot.counts.push_back(counts_[i].load(std::memory_order_relaxed));
    }
    snapshot.sum = doubleFromBits(sum_bits_);
    return snapshot;
  }

  void reset() {
    for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
    sum_bits_.store(0, std::memory_order_relaxed);
  }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> sum_bits_{0};  // 0.0
};

}  // namespace busbar::host

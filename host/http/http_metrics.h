// HttpMetrics: the requests each listener answered, by route template, method and status class,
// and how long they took, exported as busbar_http_requests_total and
// busbar_http_request_duration_seconds, with the connections each listener holds open.
//
// A request is counted where its answer is queued (HttpConnection::respond and refuse), on its
// event loop's thread, so each loop keeps cells of its own: counting is a relaxed load and a
// relaxed store of a cell no other thread writes, with no lock, no allocation and no cache line
// shared between cores. collect() sums the loops' cells. The route is the pattern HttpRouter
// matched ("/users/{id}", never the path: no per-user series); a request no route took (404, 405,
// or refused by the codec before routing) is route="(unmatched)". A series appears once it has
// counted a request. Latency runs from the loop's wake-up that read the request's first bytes to
// the answer being queued.
//
// Thread-safety: LoopCells::record on its loop's thread only; the rest thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <llhttp.h>

#include "http/http_router.h"
#include "ops/metrics_registry.h"

namespace busbar::host {

class HttpMetrics : public MetricsCollector {
 public:
  enum Method { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kOtherMethod, kMethods };
  static Method methodOf(llhttp_method_t method);

  static constexpr size_t kStatusClasses = 5;  // 1xx .. 5xx
  // Latency bucket bounds in nanoseconds: 100 us to 10 s.
  static constexpr uint64_t kBoundsNs[] = {
      100'000,       250'000,       500'000,       1'000'000,     2'500'000,   5'000'000,
      10'000'000,    25'000'000,    50'000'000,    100'000'000,   250'000'000, 500'000'000,
      1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
  static constexpr size_t kBounds = sizeof kBoundsNs / sizeof kBoundsNs[0];

  // The cells one event loop writes.
  class LoopCells {
   public:
    explicit LoopCells(size_t routes);
    // Counts an answer of `status` to a request on `route` (an Endpoint::index, or the
    // listener's unmatched() index), sent with `method`, that took `elapsed`. Inline: it runs
    // for every answer.
    void record(size_t route, Method method, int status, std::chrono::nanoseconds elapsed) {
      const size_t series = route * kMethods + method;
      const int status_class = status >= 100 && status < 600 ? status / 100 - 1 : 4;
      bump(answers_[series * kStatusClasses + static_cast<size_t>(status_class)], 1);
      const auto ns = static_cast<uint64_t>(elapsed.count() > 0 ? elapsed.count() : 0);
      size_t bucket = 0;
      while (bucket < kBounds && ns > kBoundsNs[bucket]) ++bucket;
      bump(buckets_[series * (kBounds + 1) + bucket], 1);
      bump(sums_ns_[series], ns);
    }

   private:
    friend class HttpMetrics;
    static void bump(std::atomic<uint64_t>& cell, uint64_t by) {
      cell.store(cell.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
    }
    std::vector<std::atomic<uint64_t>> answers_;  // [route][method][class]
    std::vector<std::atomic<uint64_t>> buckets_;  // [route][method][bucket], +Inf last
    std::vector<std::atomic<uint64_t>> sums_ns_;  // [route][method]
  };

  // One listener ("public", "admin") serving `router` on `loops` event loops.
  class Listener {
   public:
    Listener(std::string name, const HttpRouter& router, size_t loops);
    const std::string& name() const { return name_; }
    LoopCells& loop(size_t index) { return *loops_.at(index); }
    size_t loops() const { return loops_.size(); }
    // The route index of requests no route took.
    size_t unmatched() const { return routes_.size() - 1; }

    // What tells the connections open now while the listener serves (set by its HttpServer).
    void attach(std::function<int()> open_connections);
    void detach();

   private:
    friend class HttpMetrics;
    std::string name_;
    std::vector<std::string> routes_;  // by route index; the last is "(unmatched)"
    std::vector<std::unique_ptr<LoopCells>> loops_;
    mutable std::mutex mutex_;
    std::function<int()> open_connections_;
  };

  // Adds a listener; before the registry exports (during start).
  Listener& addListener(const std::string& name, const HttpRouter& router, size_t loops);

  std::vector<CollectedFamily> families() const override;
  void collect(PrometheusText& out) const override;

 private:
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Listener>> listeners_;
};

}  // namespace busbar::host

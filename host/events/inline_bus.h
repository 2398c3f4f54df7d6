// InlineBus: delivers events to local subscribers, in priority order, and fires lifecycle moments.
//
// Subscriptions are registered during init only; delivery is thread-safe and lock-free on the
// subscriber lists. Until open() is called (after preload), deliveries from the transport wait,
// so that no event is applied to a cache that is still loading. Events whose origin is this
// server are dropped when async_pass_through is on: the event bus delivered them already.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <vector>

#include <Poco/Logger.h>

#include "busbar/event_bus.h"
#include "busbar/transport.h"
#include "ops/latency_histogram.h"

namespace busbar::host {

class InlineBus : public Subscriptions, public InboundSink {
 public:
  InlineBus(std::string server_id, bool async_pass_through, Poco::Logger& logger);

  // Subscriptions
  void subscribe(const std::string& event_type, int priority, EventHandler handler) override;
  void onLifecycle(Lifecycle moment, int priority, std::function<void()> handler) override;

  // InboundSink: what transports call.
  void deliver(const Event& event) override;
  void reconnected() override;

  // Runs every subscriber of the event (its type's and kAllEvents'), by priority. On failure
  // throws the first error after every subscriber ran.
  void deliverLocally(const Event& event);

  // Runs the lifecycle handlers of `moment` by priority. Stops at and rethrows the first error.
  void fire(Lifecycle moment);

  // Lets waiting and future deliveries through.
  void open();

  // Counters, for /health.
  uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

  // Time from an event's occurred_on to the end of its delivery from the transport, in
  // microseconds: how far behind the writer this server's subscribers are.
  LatencyHistogram& applyLag() { return apply_lag_; }

 private:
  struct Handler {
    int priority;
    int order;
    EventHandler handler;
  };
  struct LifecycleHandler {
    int priority;
    int order;
    std::function<void()> handler;
  };

  void waitUntilOpen();

  const std::string server_id_;
  const bool async_pass_through_;
  Poco::Logger& logger_;
  std::map<std::string, std::vector<Handler>> handlers_;
  std::map<Lifecycle, std::vector<LifecycleHandler>> lifecycle_;
  int next_order_ = 0;

  std::atomic<bool> open_{false};
  std::mutex open_mutex_;
  std::condition_variable opened_;

  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> failed_{0};
  LatencyHistogram apply_lag_;
};

}  // namespace busbar::host

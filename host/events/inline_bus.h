// InlineBus: delivers events to local subscribers, in priority order, and fires lifecycle moments.
//
// Subscriptions are registered during init only; delivery is thread-safe and lock-free on the
// subscriber lists. The bus starts closed: until open() is called (after preload), deliveries
// from transports wait in waitUntilOpen(), so that no event is applied to a cache that is still
// loading. What transports call is HostInbound; this class only runs subscribers, each delivery
// inside the RequestScope of the request that emitted the event (request_context.h), which is
// the EventContext that subscribers taking one get.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <vector>

#include "busbar/event_bus.h"

namespace busbar::host {

class InlineBus : public Subscriptions {
 private:
  struct Handler {
    int priority;
    int order;
    EventHandler handler;  // one of these two
    ContextEventHandler with_context;
  };

 public:
  // Subscriptions
  void subscribe(const std::string& event_type, int priority, EventHandler handler) override;
  void subscribeWithContext(const std::string& event_type, int priority,
                            ContextEventHandler handler) override;
  void onLifecycle(Lifecycle moment, int priority, std::function<void()> handler) override;

  // Runs every subscriber of the event (its type's and kAllEvents'), by priority. On failure
  // throws the first error after every subscriber ran.
  void deliverLocally(const Event& event);

  // One event's delivery that can be tried again: each run() calls only the subscribers that
  // have not succeeded yet, so a retry never hands the event twice to the same subscriber. Not
  // thread-safe; `bus` and `event` must outlive it.
  class Delivery {
   public:
    Delivery(InlineBus& bus, const Event& event) : bus_(bus), event_(event) {}
    // Runs, by priority, every subscriber the first time and then those that failed. On
    // failure throws the first error after all of them ran.
    void run();

   private:
    InlineBus& bus_;
    const Event& event_;
    bool ran_ = false;
    std::vector<const Handler*> failed_;
  };

  // Runs the lifecycle handlers of `moment` by priority. Stops at and rethrows the first error.
  void fire(Lifecycle moment);

  // Lets waiting and future deliveries through.
  void open();

  // Returns once open() was called.
  void waitUntilOpen();

  // Counters, for /health: deliveries that ran every subscriber, and runs that failed.
  uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

 private:
  struct LifecycleHandler {
    int priority;
    int order;
    std::function<void()> handler;
  };

  std::map<std::string, std::vector<Handler>> handlers_;
  std::map<Lifecycle, std::vector<LifecycleHandler>> lifecycle_;
  int next_order_ = 0;

  std::atomic<bool> open_{false};
  std::mutex open_mutex_;
  std::condition_variable opened_;

  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> failed_{0};
};

}  // namespace busbar::host

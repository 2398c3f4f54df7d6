// HostEventBus: the event bus modules dispatch to.
//
// dispatch() stamps the event, runs the middleware chain, hands the event to the transport for
// each routed exchange and, with async_pass_through, delivers it to the inline bus right away.
// Middleware is added during init only; dispatch is thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include <Poco/Logger.h>

#include "busbar/event_bus.h"
#include "busbar/transport.h"
#include "events/event_router.h"
#include "events/inline_bus.h"

namespace busbar::host {

class HostEventBus : public EventBus {
 public:
  HostEventBus(std::string server_id, bool async_pass_through, EventRouter router,
               InlineBus& inline_bus, Poco::Logger& logger);

  // The transport events are handed to; until set, events are only delivered locally.
  void setTransport(std::shared_ptr<Transport> transport) { transport_ = std::move(transport); }

  void dispatch(Event event) override;
  void addMiddleware(int priority, EventMiddleware middleware) override;

  uint64_t dispatched() const { return dispatched_.load(std::memory_order_relaxed); }

 private:
  void runChain(size_t index, Event& event);
  void route(Event& event);

  struct Entry {
    int priority;
    EventMiddleware middleware;
  };

  const std::string server_id_;
  const bool async_pass_through_;
  const EventRouter router_;
  InlineBus& inline_bus_;
  Poco::Logger& logger_;
  std::shared_ptr<Transport> transport_;
  std::vector<Entry> middleware_;
  std::atomic<uint64_t> dispatched_{0};
};

}  // namespace busbar::host

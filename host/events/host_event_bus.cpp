#include "events/host_event_bus.h"

#include <algorithm>

#include <Poco/UUIDGenerator.h>

namespace busbar::host {

HostEventBus::HostEventBus(std::string server_id, bool async_pass_through, EventRouter router,
                           InlineBus& inline_bus, Poco::Logger& logger)
    : server_id_(std::move(server_id)),
      async_pass_through_(async_pass_through),
      router_(std::move(router)),
      inline_bus_(inline_bus),
      logger_(logger) {}

void HostEventBus::addMiddleware(int priority, EventMiddleware middleware) {
  auto position =
      std::upper_bound(middleware_.begin(), middleware_.end(), priority,
                       [](int value, const Entry& entry) { return value > entry.priority; });
  middleware_.insert(position, Entry{priority, std::move(middleware)});
}

void HostEventBus::dispatch(Event event) {
  if (event.id.empty()) {
    event.id = Poco::UUIDGenerator::defaultGenerator().createRandom().toString();
  }
  if (event.occurred_on.epochMicroseconds() == 0) event.occurred_on.update();
  event.origin = server_id_;
  runChain(0, event);
}

void HostEventBus::runChain(size_t index, Event& event) {
  if (index == middleware_.size()) {
    route(event);
    return;
  }
  middleware_[index].middleware(event, [this, index](Event& next) { runChain(index + 1, next); });
}

void HostEventBus::route(Event& event) {
  dispatched_.fetch_add(1, std::memory_order_relaxed);
  if (transport_) {
    for (const auto& exchange : router_.exchangesFor(event.type)) {
      transport_->publish(exchange, event);
    }
  }
  if (!async_pass_through_) return;
  try {
    inline_bus_.deliverLocally(event);
  } catch (const std::exception& error) {
    logger_.error("local subscriber failed on " + event.type + " " + event.id + ": " +
                  error.what());
  }
}

}  // namespace busbar::host

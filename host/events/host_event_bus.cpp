#include "events/host_event_bus.h"

#include <algorithm>

#include "events/event_id.h"
#include "ops/request_context.h"

namespace busbar::host {

HostEventBus::HostEventBus(std::string server_id, bool async_pass_through, EventRouter router,
                           InlineBus& inline_bus, Poco::Logger& logger)
    : server_id_(std::move(server_id)),
      async_pass_through_(async_pass_through),
      router_(std::move(router)),
      inline_bus_(inline_bus),
      logger_(logger) {}

void HostEventBus::setTransport(std::shared_ptr<Transport> transport) {
  transport_ = std::move(transport);
  sequenced_ = dynamic_cast<SequencedTransport*>(transport_.get());
  attributed_ = dynamic_cast<AttributedTransport*>(transport_.get());
}

void HostEventBus::addMiddleware(int priority, EventMiddleware middleware) {
  auto position =
      std::upper_bound(middleware_.begin(), middleware_.end(), priority,
                       [](int value, const Entry& entry) { return value > entry.priority; });
  middleware_.insert(position, Entry{priority, std::move(middleware)});
}

void HostEventBus::dispatch(Event event) {
  if (event.id.empty()) {
    event.id = newEventId();
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
  if (auto* pending = OutboxConnection::pendingOnThisThread()) {
    // Goes out after the commit, through publishCommitted, with the request that emitted it.
    pending->push_back(
        LoggedEvent2{0, event, std::string(currentRequestId()), std::string(currentPrincipal())});
    return;
  }
  dispatched_.fetch_add(1, std::memory_order_relaxed);
  publishUnlogged(event, currentPrincipal());
  if (async_pass_through_) deliverPassThrough(event);
}

void HostEventBus::publishUnlogged(const Event& event, std::string_view principal) {
  if (!transport_) return;
  const auto& exchanges = router_.exchangesFor(event.type);
  if (attributed_ == nullptr) {
    for (const auto& exchange : exchanges) transport_->publish(exchange, event);
    return;
  }
  const std::string caused_by(principal);
  for (const auto& exchange : exchanges) attributed_->publishAttributed(exchange, event, caused_by);
}

void HostEventBus::deliverPassThrough(const Event& event) {
  try {
    inline_bus_.deliverLocally(event);
  } catch (const std::exception& error) {
    logger_.error("local subscriber failed on " + event.type + " " + event.id + ": " +
                  error.what());
  }
}

void HostEventBus::publishLogged(const LoggedEvent2& logged, PublishSettled then) {
  const auto& exchanges = router_.exchangesFor(logged.event.type);
  if (!transport_ || exchanges.empty() || sequenced_ == nullptr) {
    // Routed nowhere, nothing to confirm; or a transport without confirmations, where handing
    // the event over is all there is to know.
    publishUnlogged(logged.event, logged.principal);
    tracker_->published(logged.event.id);
    if (then) then(true);
    return;
  }
  const EventLogSeq at{logged.seq, identity_->get(), logged.request_id};
  auto settled = tracker_->settledFor(logged.event.id, exchanges.size(), std::move(then));
  for (const auto& exchange : exchanges) {
    if (attributed_ != nullptr) {
      attributed_->publishSequencedAttributed(exchange, logged.event, at, logged.principal,
                                              settled);
    } else {
      sequenced_->publishSequenced(exchange, logged.event, at, settled);
    }
  }
}

void HostEventBus::publishCommitted(std::vector<LoggedEvent2> events) noexcept {
  for (auto& logged : events) {
    dispatched_.fetch_add(1, std::memory_order_relaxed);
    try {
      if (logged.seq == 0 || sequencer_ == nullptr) {
        // The log is off: out as an event dispatched outside a transaction.
        publishUnlogged(logged.event, logged.principal);
        if (async_pass_through_) {
          RequestScope scope(logged.request_id, logged.principal);
          deliverPassThrough(logged.event);
        }
        continue;
      }
      publishLogged(logged);
      if (async_pass_through_) {
        sequencer_->offer(logged.seq, std::move(logged.event), EventSource::kOwnCommit,
                          std::move(logged.request_id), std::move(logged.principal));
      }
    } catch (const std::exception& error) {
      // The event is in the log: the relay and the other servers' catch-up still carry it.
      logger_.error("publishing committed event " + std::to_string(logged.seq) + " " +
                    logged.event.id + " failed: " + error.what());
    }
  }
}

void HostEventBus::republish(const LoggedEvent2& logged, PublishSettled settled) noexcept {
  try {
    publishLogged(logged, std::move(settled));
  } catch (const std::exception& error) {
    logger_.error("publishing logged event " + std::to_string(logged.seq) +
                  " again failed: " + error.what());
  }
}

}  // namespace busbar::host

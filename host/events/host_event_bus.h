// HostEventBus: the event bus modules dispatch to.
//
// dispatch() stamps the event and runs the middleware chain. Then, on a thread that runs a
// storage transaction (OutboxConnection), the event waits in that transaction; otherwise it is
// handed to the transport for each routed exchange and, with async_pass_through, delivered to
// the inline bus right away. publishCommitted() is where a transaction's events go after the
// commit: to the transport with their sequence numbers (confirmations are tracked so the relay
// publishes again only what no broker took), and to this server's subscribers through the
// sequencer. Each event carries the principal of the request the dispatching thread serves
// (request_context.h): to a transport that is an AttributedTransport, into the log, and to local
// subscribers. Middleware is added during init only; the rest is thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <string_view>
#include <vector>

#include <Poco/Logger.h>

#include "busbar/event_bus.h"
#include "busbar/transport.h"
#include "events/event_router.h"
#include "events/event_sequencer.h"
#include "events/inline_bus.h"
#include "events/outbox_connection.h"
#include "events/publication_tracker.h"

namespace busbar::host {

class HostEventBus : public EventBus, public CommittedEvents {
 public:
  HostEventBus(std::string server_id, bool async_pass_through, EventRouter router,
               InlineBus& inline_bus, Poco::Logger& logger);

  // The transport events are handed to; until set, events are only delivered locally. Before
  // any dispatch.
  void setTransport(std::shared_ptr<Transport> transport);

  // Where logged events are tracked and sequenced, and the log's identity; all null while the
  // log is off. Before any dispatch.
  void setEventLog(EventSequencer* sequencer, PublicationTracker* tracker,
                   const LogIdentity* identity) {
    sequencer_ = sequencer;
    tracker_ = tracker;
    identity_ = identity;
  }

  void dispatch(Event event) override;
  void addMiddleware(int priority, EventMiddleware middleware) override;

  void publishCommitted(std::vector<LoggedEvent2> events) noexcept override;

  // Hands a logged event to the transport again (the relay); not to local subscribers.
  // `settled` learns once whether every broker it is routed to confirmed it.
  void republish(const LoggedEvent2& logged, PublishSettled settled) noexcept;

  uint64_t dispatched() const { return dispatched_.load(std::memory_order_relaxed); }

 private:
  void runChain(size_t index, Event& event);
  void route(Event& event);
  // Hands an event that is not logged to the transport for each exchange it is routed to.
  void publishUnlogged(const Event& event, std::string_view principal);
  void publishLogged(const LoggedEvent2& logged, PublishSettled then = {});
  void deliverPassThrough(const Event& event);

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
  SequencedTransport* sequenced_ = nullptr;    // transport_ as a SequencedTransport, when it is one
  AttributedTransport* attributed_ = nullptr;  // and as an AttributedTransport
  EventSequencer* sequencer_ = nullptr;
  PublicationTracker* tracker_ = nullptr;
  const LogIdentity* identity_ = nullptr;
  std::vector<Entry> middleware_;
  std::atomic<uint64_t> dispatched_{0};
};

}  // namespace busbar::host

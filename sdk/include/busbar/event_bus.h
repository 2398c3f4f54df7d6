// The two buses as plugins see them.
//
// EventBus is where a module dispatches the events it produces: a middleware chain, then the
// router picks the exchanges and hands the event to the transport; with async_pass_through the
// event is also delivered to local subscribers: before dispatch returns for an event outside a
// transaction, soon after the commit (in sequence order, on the host's own thread) for one inside.
// Subscriptions is how a module asks the inline bus, which delivers consumed events, to call it.
// Events delivered by the inline bus are never handed to the transport again, so none loops.
#pragma once

#include <functional>
#include <string>

#include "busbar/event.h"
#include "busbar/export.h"

namespace busbar {

// Called for each delivered event. Throwing marks the delivery failed (the transport may retry
// it), after every other subscriber of the event has run.
using EventHandler = std::function<void(const Event&)>;

// What the host knows of a delivered event besides its own fields; since SDK 1.6. Its layout is
// part of the ABI: a later minor adds a new struct rather than fields here.
struct EventContext {
  // Who caused the event: the name of the bearer token ([token.<name>] in host.conf) of the HTTP
  // request that emitted it, on whichever server that was. "" when that request carried no valid
  // token (auth = off, a route open to anyone), when no request emitted it (a background job,
  // another program), or when a plugin on its way predates SDK 1.6 (docs/events.md).
  std::string principal;
  // The X-Request-Id of that request, where it travelled with the event: on the server that
  // emitted it, and on every server for an event of the event log. "" otherwise (an event
  // published outside a transaction, as it reaches another server).
  std::string request_id;
};

// Called for each delivered event with its context; since SDK 1.6
// (Subscriptions::subscribeWithContext). Throws as EventHandler does.
using ContextEventHandler = std::function<void(const Event&, const EventContext&)>;

// Wraps the rest of the dispatch chain: call next(event) to continue, or do not to drop it.
using EventMiddleware = std::function<void(Event& event, const std::function<void(Event&)>& next)>;

// Subscribing to this type means every event.
inline constexpr const char* kAllEvents = "_all";

// Moments of the host's life that modules may act on.
enum class Lifecycle {
  kPreload,      // storage is open, HTTP is not: load caches. Events wait until it ends.
  kStart,        // about to accept HTTP requests
  kStop,         // HTTP has stopped; the transport and storage are still open
  kReconnected,  // events may have been missed (a reconnect, the event log pruned past this
                 // server, a restored database): reload from the database, which wins over
                 // anything held. Deliveries wait until every handler returned.
};

// Dispatches the events modules produce. Thread-safe.
//
// Since SDK 1.1, an event dispatched on the thread that runs the `work` of
// Connection::transaction (of the "storage" service) is part of that transaction: it is written to
// the event log, the database table busbar_events, in the same commit as the change it reports,
// gets the log's next sequence number, and is handed to the transport and to local subscribers
// only once the commit succeeded. A rolled back transaction publishes nothing. Whatever the
// transport loses later (a crash, a full queue, a broker that blocks publishers) is published again
// from the log, and every server reads what it missed from the log; a subscriber gets each logged
// event exactly once, in sequence order (docs/events.md). An event dispatched outside a
// transaction is published at once and is not logged, as in SDK 1.0.
class BUSBAR_API EventBus {
 public:
  virtual ~EventBus() = default;

  // Fills id (when empty) and origin, and takes the caller of the HTTP request the calling thread
  // serves, if any, as the event's principal (EventContext); runs the middleware, then hands the
  // event to the transport for every routed exchange and, with async_pass_through, delivers it
  // locally; inside a transaction these last steps wait for the commit, and local subscribers get
  // the event after it, on the host's delivery thread (not before transaction() returns). On
  // success returns once the transport accepted it (not when it reached the broker). Local
  // subscriber failures are logged, not thrown: the change behind the event is done.
  virtual void dispatch(Event event) = 0;

  // Adds a middleware; higher priority runs first. Only during init.
  virtual void addMiddleware(int priority, EventMiddleware middleware) = 0;
};

// Registration on the inline bus. Only during init; not thread-safe.
class BUSBAR_API Subscriptions {
 public:
  virtual ~Subscriptions() = default;

  // Calls `handler` for each delivered event of `event_type` (or kAllEvents). Handlers of one
  // type run in order of priority, higher first, then in order of registration.
  virtual void subscribe(const std::string& event_type, int priority, EventHandler handler) = 0;

  // Calls `handler` at the lifecycle moment. A throwing kPreload handler stops the host.
  virtual void onLifecycle(Lifecycle moment, int priority, std::function<void()> handler) = 0;

  // Since SDK 1.6 (a plugin using it needs a host of ABI 1.6 or later): as subscribe() above,
  // with `handler` given the event's context. Handlers of both kinds share one order. A name of
  // its own, not an overload: a callable that takes either form (std::bind, a variadic lambda)
  // stays unambiguous. The host overrides it; this default, for a plugin's own stand-in
  // Subscriptions in its tests, gives the handler an empty context.
  virtual void subscribeWithContext(const std::string& event_type, int priority,
                                    ContextEventHandler handler) {
    subscribe(event_type, priority,
              EventHandler([handler = std::move(handler)](const Event& event) {
                handler(event, EventContext{});
              }));
  }
};

}  // namespace busbar

// Transport: carries dispatched events to other servers, and consumed events into this one.
//
// A transport plugin provides its Transport under the registry name "transport". It publishes
// what the event bus hands it and delivers what it consumes into the InboundSink of its
// PluginContext. Every interface here is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "busbar/event.h"
#include "busbar/export.h"
#include "busbar/registry.h"

namespace busbar {

// Since SDK 1.1. Where a logged event sits: its sequence number in the event log of the database
// its server wrote it to, and that log's identity (a UUID made with the log). Consumers trust a
// sequence number only within the log they follow themselves. It also carries the id of the HTTP
// request that emitted the event (X-Request-Id), so that every server applying it logs that id:
// a transport carries it as it carries the rest, and "" when there was none.
struct EventLogSeq {
  uint64_t seq = 0;
  std::string log_id;
  std::string request_id;
};

// The inline bus as the transport sees it.
class BUSBAR_API InboundSink {
 public:
  virtual ~InboundSink() = default;

  // Runs every local subscriber of an event that carries no event log sequence (one published
  // outside a transaction, or by another program). Blocks while the host is still preloading.
  // On success returns when all ran; on failure throws after all ran (the caller may retry).
  virtual void deliver(const Event& event) = 0;

  // Asks the subscribers to resynchronize: the transport may have lost events (a reconnect, a
  // dropped publish). Returns at once; the host reloads in the background and retries until it
  // succeeds.
  virtual void reconnected() = 0;

  // Since SDK 1.1. Takes a logged event with its place in the event log. The host delivers logged
  // events to subscribers exactly once and in sequence order: an event already delivered is
  // dropped, one that leaves a gap waits until the host has read the missing ones from the log.
  // Returns without waiting for that and never throws for a subscriber's failure (the host
  // retries, then sets the event aside), so the transport may acknowledge the message on return.
  // An event of another log than this server's (or any, while this server's log is off) is
  // delivered as deliver() does, and may throw as it does.
  virtual void deliverSequenced(const Event& event, const EventLogSeq& at) = 0;

  // Since SDK 1.6 (a transport using them needs a host of ABI 1.6 or later): deliver() and
  // deliverSequenced() of an event that carries who caused it (EventContext::principal, ""
  // for nobody), which subscribers then get. Names of their own, not overloads, so that a
  // sink deriving from this one and overriding deliver() hides nothing. The host overrides
  // them; these defaults, for a transport's own stand-in sink in its tests, drop the principal.
  virtual void deliverAttributed(const Event& event, const std::string& principal) {
    static_cast<void>(principal);
    deliver(event);
  }
  virtual void deliverSequencedAttributed(const Event& event, const EventLogSeq& at,
                                          const std::string& principal) {
    static_cast<void>(principal);
    deliverSequenced(event, at);
  }
};

// Called once per event handed to SequencedTransport::publishSequenced, on any thread: true
// when the broker confirmed it, false when the transport gave up on it (the host's relay then
// publishes it again from the event log).
using PublishSettled = std::function<void(bool confirmed)>;

class BUSBAR_API Transport : public Service {
 public:
  // Hands `event` to the broker exchange `exchange` (a name, not an alias). Must not block on
  // the network. On success the transport owns delivery; a transport that has to drop the
  // event counts and logs it rather than failing the caller's write.
  virtual void publish(const std::string& exchange, const Event& event) = 0;
};

// Since SDK 1.1, optional: a transport whose "transport" service also implements this carries
// the event log's sequence number with each logged event (consumers pass it to
// InboundSink::deliverSequenced) and reports what its broker confirmed, so that the host's relay
// publishes again only what no broker took. Without it the host publishes logged events with
// Transport::publish, and consumers apply them by version. Thread-safe.
class BUSBAR_API SequencedTransport {
 public:
  virtual ~SequencedTransport() = default;

  // Transport::publish of an event logged `at`, which travels with it. Must not block on the
  // network. Calls `settled` exactly once, from any thread, also when the transport stops first.
  virtual void publishSequenced(const std::string& exchange, const Event& event,
                                const EventLogSeq& at, PublishSettled settled) = 0;
};

// Since SDK 1.6, optional: a transport whose "transport" service also implements this carries who
// caused each event (EventContext::principal) with it, in its envelope, and consumers pass it to
// InboundSink::deliverAttributed and deliverSequencedAttributed. The host then calls these instead
// of Transport::publish and SequencedTransport::publishSequenced, with the same duties. Without it
// the other servers' subscribers get no principal. Thread-safe.
class BUSBAR_API AttributedTransport {
 public:
  virtual ~AttributedTransport() = default;

  // Transport::publish of `event`, caused by `principal` ("" for nobody).
  virtual void publishAttributed(const std::string& exchange, const Event& event,
                                 const std::string& principal) = 0;

  // SequencedTransport::publishSequenced of `event`, caused by `principal` ("" for nobody). The
  // host calls it only on a transport that also implements SequencedTransport.
  virtual void publishSequencedAttributed(const std::string& exchange, const Event& event,
                                          const EventLogSeq& at, const std::string& principal,
                                          PublishSettled settled) = 0;
};

// Since SDK 1.1, optional: a transport whose "transport" service also implements this tells the
// host whether it can carry events now; GET /readyz reports the server not ready while it cannot.
// Without it the host counts the transport as connected. Thread-safe.
class BUSBAR_API TransportHealth {
 public:
  virtual ~TransportHealth() = default;

  // "" while the transport can publish and consume; otherwise why not, for operators ("the
  // publisher's connection to 10.0.0.5:5672 is down: connection refused"). Returns at once.
  virtual std::string unavailable() const = 0;
};

}  // namespace busbar

namespace busbar {

// Optional, for transports with broker-side topology: what `busbar infra` drives. Provided under
// the registry name "transport.admin". Called from the command line only, never while serving.
class BUSBAR_API TopologyAdmin : public Service {
 public:
  // Declares every exchange in `exchanges` (broker names). Returns one line per action done.
  // On failure throws with the broker's reason.
  virtual std::vector<std::string> createTopology(const std::vector<std::string>& exchanges) = 0;

  // Appends one line per exchange to `report`. Returns true when every exchange exists.
  virtual bool checkTopology(const std::vector<std::string>& exchanges,
                             std::vector<std::string>& report) = 0;

  // Deletes every exchange in `exchanges`. Returns one line per action done.
  virtual std::vector<std::string> dropTopology(const std::vector<std::string>& exchanges) = 0;
};

}  // namespace busbar

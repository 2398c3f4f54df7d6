// EventSequencer: hands logged events to this server's subscribers exactly once and in sequence
// order, whichever way they arrive and in whatever order: from the transport, from this server's
// own commits, or read back from the event log.
//
// It holds the applied position: the last seq handed to the subscribers (with its event's id, so
// that the log's history can be checked against it). An offered event at or below it, or already
// waiting, is dropped before any subscriber sees it; any other waits (up to `max_waiting` of them;
// beyond that the highest are dropped, the log still has them) and the gap before it is reported,
// so that the follower reads what is missing: each gap once, whether events arrived beyond it or
// the delivery of what filled the gap before it stopped there.
//
// The subscribers run on the sequencer's own thread ("bb-sequencer"), never on the thread that
// offers: offer() only queues. The offering threads have work of their own that must not wait for
// the subscribers' pace: the transport's consumer acknowledges deliveries and keeps its broker
// connection alive (a consumer thread that delivered whatever queued behind its event stayed away
// from the broker past its heartbeat timeout while the others kept the run going), the numberer
// numbers this server's commits, the follower reads the log. The follower paces its reads with
// waitForProgress(), so that a backlog is read as fast as it is applied, not into memory.
//
// A delivery that throws (the deliverer has tried again as it sees fit) is set aside: logged with
// its seq and id, counted and handed to `set_aside` (the ParkingLot), and the next ones flow.
//
// close() ends deliveries for good, for a stop: the thread finishes the event in hand, though more
// wait behind it, and ends; later offers are dropped.
//
// resynchronize() holds deliveries, waits for the one in progress, runs a reload that tells the
// position it reflects, drops every waiting event (the log has them) and resumes. Until the first
// resynchronize() (the preload) offered events only wait. exclusive() runs something else that
// must not overlap a delivery (a replay of parked events) the same way, the position untouched.
//
// Thread-safe. `deliver`, `gap_found` and `set_aside` run on the sequencer's thread (gap_found
// also on the threads that offer, resynchronize or run something exclusively) and must not call
// back into the sequencer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>

#include <Poco/Logger.h>

#include "background_worker.h"
#include "events/event_log.h"

namespace busbar::host {

// Where an offered event comes from; subscribers' lag is measured only for the transport's.
enum class EventSource { kOwnCommit, kTransport, kLog };

// A range of sequence numbers, both ends included.
struct SeqRange {
  uint64_t first = 0;
  uint64_t last = 0;
};

struct SequencerOptions {
  // Bounds the memory of a server that applies slower than the cluster writes: the transport's
  // consumer queues what it receives here and goes on; what is dropped is read from the log.
  size_t max_waiting = 10000;
};

class EventSequencer {
 public:
  // Runs every subscriber of the event; throws when one failed for good. It runs under the id of
  // the request that emitted the event (request_context.h), so what it logs carries that id.
  using Deliver = std::function<void(const Event&, EventSource)>;
  // Told a gap was found; must not call back into the sequencer.
  using GapFound = std::function<void()>;
  // Told an event was set aside, with the error of its delivery; must not call back into the
  // sequencer.
  using SetAside = std::function<void(const LoggedEvent2&, const std::string& error)>;

  // Starts the delivering thread, held until the first resynchronize().
  EventSequencer(Deliver deliver, GapFound gap_found, SequencerOptions options,
                 Poco::Logger& logger, SetAside set_aside = {});
  // Closes, and waits for the delivery in hand.
  ~EventSequencer();
  EventSequencer(const EventSequencer&) = delete;
  EventSequencer& operator=(const EventSequencer&) = delete;

  // Takes the event logged at `seq`, emitted by the request `request_id` of `principal`
  // (delivered inside their RequestScope, which subscribers see), for the sequencer's thread to
  // deliver in its turn; drops it when it was applied or is already waiting. Returns without
  // running any subscriber.
  void offer(uint64_t seq, Event event, EventSource source, std::string request_id = {},
             std::string principal = {});

  // Holds deliveries, waits for the one in progress, runs `reload`, which reloads the
  // subscribers' state and returns the log position that state reflects, makes it the applied
  // position, drops every waiting event (the next catch-up reads again those the log holds) and
  // resumes. When `reload` throws, deliveries
  // stay as they were before the call (held, if they were) and the error propagates.
  void resynchronize(const std::function<LogPosition()>& reload);

  // Holds deliveries, waits for the one in progress, runs `work`, and resumes; what `work`
  // throws propagates after the deliveries resumed.
  void exclusive(const std::function<void()>& work);

  // From now on nothing more is delivered: returns once the delivery in progress ended after its
  // event; what waits, and what is offered later, is dropped. Idempotent.
  void close();

  // Waits, at most `timeout`, while deliveries still progress toward `seq`: returns true once the
  // event at `seq` was taken, or when nothing can be delivered now (what waits is behind a gap,
  // or deliveries are held or closed); false when the time ran out first.
  bool waitForProgress(uint64_t seq, std::chrono::milliseconds timeout);

  // Waits until no delivery runs and nothing waiting can be delivered now (what waits is behind a
  // gap, or deliveries are held or closed), gaps found on the way reported. For tests.
  void waitUntilSettled();

  LogPosition applied() const;

  // The missing sequence numbers before the first waiting event, when there is a gap.
  std::optional<SeqRange> gap() const;

  // Counters, for /health and the metrics.
  struct Counters {
    uint64_t delivered = 0;   // handed to the subscribers
    uint64_t from_log = 0;    // of those, read from the log (caught up)
    uint64_t duplicates = 0;  // dropped: applied or waiting already
    uint64_t gaps = 0;        // gaps found (and reported to the follower)
    uint64_t set_aside = 0;   // deliveries that kept failing
    uint64_t overflowed = 0;  // dropped because too many waited
    size_t waiting = 0;       // waiting now
  };
  Counters counters() const;

 private:
  enum class State {
    kHeld,        // nothing is delivered: before the preload, or during a resynchronize
    kIdle,        // the thread waits for the next event
    kDelivering,  // the thread delivers what is next, or reports the gap it stopped at
  };

  // An offered event waiting for its turn, with the request (and its principal) that emitted it.
  struct Waiting {
    Event event;
    EventSource source;
    std::string request_id;
    std::string principal;
  };

  // The delivering thread's loop.
  void run();
  // Delivers what is next while there is some and nothing holds deliveries. Called with `lock`
  // held; returns with it held.
  void deliverReady(std::unique_lock<std::mutex>& lock);
  void deliverOrSetAside(uint64_t seq, const Waiting& next);
  // Whether the next event waits and deliveries may run.
  bool readyLocked() const;
  bool hasGapLocked() const;
  // True, once per gap, when there is one not reported yet (counted); not while held.
  bool newGapLocked();
  // Waits for the delivery in progress and holds the next ones; returns the state before.
  State hold();
  // Ends a hold: back to `state`; the thread delivers what is next, or a gap found there is
  // reported.
  void resume(State state);

  const Deliver deliver_;
  const GapFound gap_found_;
  const SetAside set_aside_;
  const SequencerOptions options_;
  Poco::Logger& logger_;

  std::mutex holder_;  // one resynchronize() or exclusive() at a time; taken before the worker's
  // The delivering thread; its mutex() guards everything below.
  BackgroundWorker worker_;
  std::condition_variable idle_;  // a delivery run ended, or an event was taken
  State state_ = State::kHeld;
  bool hold_wanted_ = false;  // a hold() waits for the running delivery to end
  bool closed_ = false;       // close() was called: no delivery starts or goes on
  LogPosition applied_;
  uint64_t reported_gap_ = 0;  // the first missing seq of the last gap reported
  std::map<uint64_t, Waiting> waiting_;
  Counters counters_;
};

}  // namespace busbar::host

// EventLogRuntime: the host's event log machinery, wired together for one server.
//
// Uses the storage plugin's EventLogStorage, and owns the OutboxConnection modules get as
// "storage", the EventSequencer, the EventLogFollower, the PublicationTracker and the EventRelay,
// and connects them to the event bus and the inbound side. With `[event_log] enabled = false`,
// or without a storage plugin that provides the log's storage, only the follower runs, for
// resynchronizations, and transactions still publish their events after the commit.
//
// Driven by the Host from its main thread: construct (after the storage plugin's init), start()
// after preload(), stop() before the plugins stop, finish() before the storage plugin stops.
// figures() from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <Poco/JSON/Object.h>
#include <Poco/Logger.h>
#include <Poco/Timestamp.h>

#include "busbar/storage.h"
#include "events/event_log.h"
#include "events/event_log_follower.h"
#include "events/event_relay.h"
#include "events/event_sequencer.h"
#include "events/host_event_bus.h"
#include "events/host_inbound.h"
#include "events/inline_bus.h"
#include "events/outbox_connection.h"
#include "events/parking_lot.h"
#include "events/publication_tracker.h"
#include "host_config.h"

namespace busbar::host {

class EventLogRuntime {
 public:
  // `storage` is the storage plugin's Connection and `log` its EventLogStorage, each null when
  // there is none; the log is on when both are there and [event_log] enabled is true. Registers
  // the log's migrations and the parking lot's with `migrations` when the log is on.
  EventLogRuntime(const HostSettings& settings, std::shared_ptr<Connection> storage,
                  std::shared_ptr<EventLogStorage2> log, HostEventBus& bus, HostInbound& inbound,
                  InlineBus& inline_bus, Migrations& migrations, Poco::Logger& logger);
  ~EventLogRuntime();

  bool enabled() const { return log_ != nullptr; }

  // The last seq handed to this server's subscribers (0 with the log off).
  uint64_t appliedSeq() const { return sequencer_ ? sequencer_->applied().seq : 0; }

  // What modules get as "storage" (null without a storage plugin).
  std::shared_ptr<OutboxConnection> outbox() const { return outbox_; }

  // Loads the subscribers for the first time (the kPreload moment) at a known log position.
  void preload();

  // Starts catching up and relaying.
  void start();

  // Stops delivering, catching up and relaying; gives the relay lease up.
  void stop() noexcept;

  // Writes the last publication marks and parked events (after the transport stopped, before the
  // storage does). Nothing when start() never ran: a start that failed earlier has neither, and
  // the log's tables may not exist yet.
  void finish() noexcept;

  // The figures /health shows, as "event_log": {...}.
  Poco::JSON::Object::Ptr figures() const;

  // The same as numbers, for the metrics.
  struct Snapshot {
    bool enabled = false;
    uint64_t applied_seq = 0;
    uint64_t head_seq = 0;
    uint64_t waiting = 0;
    uint64_t gaps = 0;
    uint64_t caught_up = 0;
    uint64_t duplicates = 0;
    uint64_t set_aside = 0;
    uint64_t parked = 0;
    uint64_t catch_ups = 0;
    uint64_t resyncs = 0;
    uint64_t failures = 0;
    std::optional<Poco::Timestamp> last_catch_up;
    bool relay = false;  // the relay runs (the log is on); the rest is its
    bool holds_lease = false;
    uint64_t backlog = 0;
    uint64_t republished = 0;
    uint64_t pruned = 0;
    uint64_t marks_waiting = 0;
  };
  Snapshot snapshot() const;

  // Why this server's subscribers may be behind the database ("" when they are not): a
  // resynchronization has not succeeded yet, or, with the log on, neither the preload nor a
  // catch-up succeeded within three catch-up intervals (at least 5 s), or after such a time the
  // sequencer has not yet taken the head the first catch-up read (EventLogFollower). What
  // GET /readyz calls "cache fresh".
  std::string staleness() const;

  // Resynchronizations that succeeded since the start (the subscribers reloaded).
  uint64_t resyncs() const;

  // Reloads the subscribers in the background, as a transport reconnect does; logs `why`.
  void requestResync(const std::string& why) { follower_->requestResync(why); }

  // The events this server's subscribers failed on (null with the log off).
  ParkingLot* parkingLot() { return parking_lot_.get(); }

  // Delivers the parked events `event_ids` (all when empty) again to every subscriber of their
  // type, between two deliveries of the sequencer. With the log off, delivers nothing.
  ParkingLot::ReplayOutcome replayParked(const std::vector<std::string>& event_ids);

 private:
  InlineBus& inline_bus_;
  Poco::Logger& logger_;
  const std::chrono::milliseconds stale_after_;
  bool started_ = false;                   // start() ran; the host's thread only
  std::shared_ptr<EventLogStorage2> log_;  // null when off
  PublicationTracker tracker_;
  LogIdentity identity_;
  std::unique_ptr<ParkingLot> parking_lot_;  // before the sequencer, which parks in it
  std::unique_ptr<EventSequencer> sequencer_;
  std::unique_ptr<EventLogFollower> follower_;
  std::unique_ptr<EventRelay> relay_;
  std::shared_ptr<OutboxConnection> outbox_;
};

}  // namespace busbar::host

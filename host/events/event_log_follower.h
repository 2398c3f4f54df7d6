// EventLogFollower: keeps this server's applied position up with the event log, on its own
// thread, and resynchronizes the subscribers when the log cannot.
//
// Catch-up reads the log past the applied position and offers what it finds to the sequencer,
// in order. It runs every `interval` (so a lost *last* event is found too), soon after the
// sequencer reports a gap (after `gap_grace`, since the missing event usually arrives from the
// broker a moment later), and right after a resynchronization. Before reading it checks the
// log against what was applied; when the log has changed identity (another database), gone
// backwards, holds another event at the applied seq (a database restored from an older dump),
// or no longer holds the events after the applied position (pruned past this server), it
// restarts: the subscribers reload from the database (the database wins) and the applied
// position becomes the log's head as read before the reload.
//
// A restore may replace the tables one at a time, the module's long after the log's (a large
// dump, pg_restore -j). So every pass also compares the identities of the database's tables
// (EventLogStorage::tableIdentities) with those read before the last reload: when a table was made
// again, the subscribers reload (a refresh). Any reload that finds the tables made again since
// the one before, and any restart, is followed by one more on the next pass, so that rows loaded
// into a table after it was created are read too, however late the restore comes.
//
// A catch-up reads no more than a batch ahead of what the sequencer took, so that a backlog waits
// in the log rather than in memory; while it waits for the subscribers and they go on taking
// events, it counts as catching up.
//
// A server that went `stale_after` without a catch-up (a paused process, a VM back from migration,
// a database away) resumes with a backlog: the sequencer applies it at the subscribers' pace,
// behind what the broker queued meanwhile. It recovers until the sequencer took the head that the
// first catch-up after it read: freshness() says so. A server that keeps catching up but applies
// slower than the cluster writes does not recover: its lag is not this kind of staleness
// (docs/events.md, the limitation row).
//
// requestResync() (the transport may have lost events that are not logged, or the log is off)
// refreshes instead: the subscribers reload, and the applied position stays where it was, so
// that they still get every logged event after it once. Failed catch-ups and
// resynchronizations are logged and tried again with capped exponential backoff until they
// succeed.
//
// Thread-safe: request*, figures, freshness and stop may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <Poco/Logger.h>
#include <Poco/Timestamp.h>

#include "background_worker.h"
#include "events/event_log.h"
#include "events/event_sequencer.h"

namespace busbar::host {

struct FollowerOptions {
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds gap_grace{20};
  size_t batch = 1000;
  std::chrono::milliseconds retry_initial{100};
  std::chrono::milliseconds retry_cap{5000};
  // Longer than this without a catch-up, the server recovers once catch-ups resume (above).
  std::chrono::milliseconds stale_after{5000};
};

class EventLogFollower {
 public:
  // Reloads every subscriber's state from the database; throws when it could not.
  using Reload = std::function<void()>;

  // With a null `log` (the event log is off) only resynchronizations run; `sequencer` and
  // `identity` are then unused and may be null too. All must outlive the follower. `identity` is
  // set to the log's whenever the follower reads the head for a reload.
  EventLogFollower(EventLogStorage2* log, EventSequencer* sequencer, LogIdentity* identity,
                   Reload reload, FollowerOptions options, Poco::Logger& logger);
  ~EventLogFollower();  // stops

  // Loads the subscribers for the first time through `preload` (the kPreload moment) and makes
  // the log's head, read before it, the applied position. On the calling thread; throws what
  // `preload` or the storage threw.
  void preload(const Reload& preload);

  // Starts the thread; it catches up at once.
  void start();
  void stop() noexcept;

  // Catch up soon: the sequencer found a gap.
  void requestCatchUp();

  // Reload the subscribers in the background, retrying until it succeeds; logs `why`.
  void requestResync(const std::string& why);

  struct Figures {
    uint64_t head_seq = 0;                         // the log's head at the last catch-up
    uint64_t read = 0;                             // events read from the log and offered
    uint64_t catch_ups = 0;                        // catch-ups that succeeded
    uint64_t failures = 0;                         // catch-ups or resyncs that failed
    uint64_t resyncs = 0;                          // resynchronizations that succeeded
    std::optional<Poco::Timestamp> last_catch_up;  // when the last catch-up succeeded
    std::string last_error;                        // of the last failure, "" after a success
    std::string resync_wanted;  // why a resynchronization waits to succeed; "" when none does
  };
  Figures figures() const;

  // What GET /readyz's cache_fresh reads.
  struct Freshness {
    // When the last catch-up that succeeded read the log's head, or when the preload or a restart
    // loaded the subscribers (steady clock); nullopt before the preload.
    std::optional<std::chrono::steady_clock::time_point> caught_up_at;
    // While the server recovers: the head the first catch-up after `stale_after` without one
    // read, which the sequencer has not taken yet; else nullopt.
    std::optional<uint64_t> recovering_to;
  };
  Freshness freshness();

 private:
  void run();
  // One pass: a resynchronization if one is wanted, then a catch-up. Throws on failure.
  void pass();
  // Checks the log against the applied position; returns why it must resynchronize, or "".
  std::string checkHistory(const LogPosition& applied, const LogHead& head);
  void catchUp();
  // Reads from the log only the events missing before the first waiting one, if any still are.
  // The whole pass (history checks and everything past the position) stays periodic.
  void fillGap();
  // Reloads the subscribers and keeps the applied position (a reconnect: state may have been
  // missed, but the log still holds every logged event after the position).
  void refresh(const std::string& why);
  // Reloads the subscribers and moves the applied position to the log's head (the log cannot
  // give what lies between: it was restored, replaced or pruned).
  void restart(const std::string& why);
  void finishResync(const std::string& why, const Poco::Timestamp& started);
  LogPosition reloadAt(const Reload& reload);
  // Runs `reload` and, once it succeeded, records the table identities read before it.
  void reloadNoting(const Reload& reload);
  // Why the subscribers must reload because tables were made again since the last reload, or "".
  std::string tablesReplaced();

  EventLogStorage2* const log_;
  EventSequencer* const sequencer_;
  LogIdentity* const identity_;
  const Reload reload_;
  const FollowerOptions options_;
  Poco::Logger& logger_;

  // Under worker_.mutex().
  bool catch_up_wanted_ = false;
  std::chrono::steady_clock::time_point catch_up_due_{};
  std::string resync_reason_;  // non-empty: a resynchronization is wanted
  // Worker only (and preload, before the worker starts): the table identities read before the
  // last reload that succeeded, and whether the next pass reloads once more after tables were
  // made again.
  std::map<std::string, std::string> tables_at_reload_;
  bool reload_once_more_ = false;
  Figures figures_;      // under worker_.mutex()
  Freshness freshness_;  // under worker_.mutex()
  BackgroundWorker worker_;
};

}  // namespace busbar::host

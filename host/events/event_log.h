// EventLog: the event log in the application's database, and every statement over it.
//
//   busbar_events       one row per logged event: seq (primary key), event_id, event_type,
//                       occurred_on (us), origin, version, payload (JSON), logged_at (us, the
//                       writer's clock), published (0 while its publisher still has it, 1 once a
//                       broker confirmed it, 2 once its publisher gave it up to the relay)
//   busbar_event_head   one row: the last sequence number taken, and the log's identity, a UUID
//                       made with the log (a database restored from a dump keeps it; a new or
//                       replaced database has another)
//   busbar_event_relay  one row: the server that relays, and its heartbeat (RelayLease)
//
// Sequence numbers are gap-free and follow commit order, on every backend: append() takes them
// by updating the head row as the last statements of the writer's transaction, so that row stays
// locked until the commit and the next writer can take numbers only after it. A reader at
// `seq > last` therefore never skips a row that commits late (docs/architecture.md says why this
// and not an auto-increment key with a gap window). The price is that writers' commits queue on
// the head row; only the tail of each transaction (two statements and the commit) holds it.
//
// Stateless apart from the Connection, which must be the storage plugin's own (not the outbox
// that logs events); thread-safe as that Connection is.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "busbar/event.h"
#include "busbar/migrations.h"
#include "busbar/storage.h"

namespace busbar::host {

// Where the host's own migrations are recorded in busbar_migrations.
inline constexpr const char* kEventLogModule = "busbar_event_log";

struct LoggedEvent {
  uint64_t seq = 0;
  Event event;
};

// A position in the log: a sequence number and the id of the event logged there ("" at 0).
struct LogPosition {
  uint64_t seq = 0;
  std::string event_id;
};

struct LogHead {
  uint64_t seq = 0;    // the last sequence number taken (0: nothing logged yet)
  std::string log_id;  // the log's identity
};

// What prune() keeps: the newest `events` events, and none logged longer than `seconds` ago;
// never an event no broker has confirmed, and never with a hole (it cuts below one sequence
// number).
struct Retention {
  uint64_t events = 1000000;
  int64_t seconds = 7 * 24 * 3600;
};

// The identity of the event log this server follows: set when the follower reads the log's
// head, read by what publishes and consumes logged events. Thread-safe.
class LogIdentity {
 public:
  std::string get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return id_;
  }
  void set(std::string id) {
    std::lock_guard<std::mutex> lock(mutex_);
    id_ = std::move(id);
  }

 private:
  mutable std::mutex mutex_;
  std::string id_;
};

class EventLog {
 public:
  // `storage` is the storage plugin's Connection; it must outlive the log.
  explicit EventLog(Connection& storage) : storage_(storage) {}

  // The tables, for the Migrator under kEventLogModule.
  static std::vector<Migration> migrations();

  // Inside `transaction` (the Connection of an open transaction): takes the next events.size()
  // sequence numbers and inserts the events, stamped `logged_at` (us since the epoch). Returns
  // the first number; the others follow it. Run it last in the transaction: the head row stays
  // locked until the commit. On failure throws what the storage threw.
  static uint64_t append(Connection& transaction, const std::vector<Event>& events,
                         int64_t logged_at);

  // The head row. Throws StorageError when the log's tables are missing.
  LogHead head();

  // The head and the id of the event logged at it: what a cache loaded after this read reflects.
  LogPosition position();

  // Up to `limit` events with seq > `after`, in seq order.
  std::vector<LoggedEvent> readAfter(uint64_t after, size_t limit);

  // The id of the event logged at `seq`, or nothing when there is no such row.
  std::optional<std::string> eventIdAt(uint64_t seq);

  // The same, read in a transaction that first takes the head row's lock: when it returns, no
  // transaction that took sequence numbers before it is still open, so a missing row will not
  // appear later. Waits for that lock at most `lock_wait_seconds` where the backend can bound it.
  std::optional<std::string> eventIdAtSettled(uint64_t seq, int lock_wait_seconds);

  // The lowest seq in the log, or nothing when it is empty.
  std::optional<uint64_t> oldest();

  // What became of an event's publication.
  enum class Publication { kConfirmed, kGivenUp };

  // Records `state` for `events` (a seq and the id of the event logged there: after a restore
  // another event may hold the seq). A confirm wins over giving up, whatever their order.
  void mark(const std::vector<LogPosition>& events, Publication state);

  // Up to `limit` events with seq > `after` for the relay, in seq order: those their publisher
  // gave up, and those still unconfirmed that were logged before `orphaned_before` (us; their
  // server may have died with them).
  std::vector<LoggedEvent> unpublished(uint64_t after, int64_t orphaned_before, size_t limit);

  // The number of events with seq > `after` that no broker confirmed.
  uint64_t countUnpublished(uint64_t after);

  // Deletes what `retention` does not keep, at `now` (us). Returns the rows deleted.
  uint64_t prune(const Retention& retention, int64_t now);

 private:
  Connection& storage_;
};

}  // namespace busbar::host

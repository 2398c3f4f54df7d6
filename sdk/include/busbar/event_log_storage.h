// EventLogStorage: the event log's records in the storage plugin's database, for the host.
//
// The host keeps every domain event that a transaction emits in a log inside the application's
// database (docs/events.md). Writers append their events inside their own transaction, without
// numbers. Numbering gives each event the next gap-free sequence number, in the order the events
// were logged. Every server reads the log in number order to catch up, relays what no broker
// confirmed, settles commits whose outcome a broken connection hid, and prunes old events. The
// host holds the policy (when, how often, by which server); this interface holds the records,
// in the database's own dialect, so that the host speaks no SQL.
//
// A storage plugin provides it in init(), beside its Connection, under kEventLogStorageService
// (since SDK 1.3). It is the host's: modules never call it (they write through "storage", whose
// transactions log what they dispatch). The host finds it with Registry::find<EventLogStorage>; a
// storage plugin that does not provide it runs with the event log off, and the host says so at
// start (or refuses to start when host.conf asks for the log). docs/plugins.md §4 states every duty
// below as the conformance suite checks it (`busbar-conformance event-log`).
//
// Liveness: no method may hold a lock of the database while the database waits for this client.
// A server frozen between two statements (SIGSTOP, a VM paused for migration, a half-open link)
// must stop no other server: numbering is one statement that moves the head only if it is where
// it was read (a compare-and-set), never a lock taken by one statement and released by a later
// one. The exception is a backend where one transaction writes at a time anyway (SQLite), which
// numbers inside the writer's transaction (Numbering::kByWriter).
//
// Durability: numbers are committed durably. A number that a database crash takes back could be
// given to another event after the restart, while a follower already applied the first one.
//
// Thread-safety: every method may be called from any thread at once, except append() and
// appendNumbered(), which run on the thread of the transaction they are given.
//
// Errors, as Connection's (storage.h): StorageUnavailable when the database cannot be reached
// (the host retries later), TransactionConflict on a deadlock or serialization failure (the host
// retries), StorageError for anything else (logged; the host retries later, a damaged row is
// reported). DuplicateKey only where a method says so.
//
// How it grows: this interface never changes within ABI major 1. A later minor that needs more
// of the log's storage adds an interface deriving from it (EventLogStorage2, since SDK 1.6),
// which the plugin's service also implements; the host looks for it with dynamic_cast and does
// without it when a plugin built against an older SDK lacks it, as COM and Vulkan grow.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "busbar/event.h"
#include "busbar/export.h"
#include "busbar/migrations.h"
#include "busbar/registry.h"
#include "busbar/storage.h"

namespace busbar {

// The registry name of the EventLogStorage a storage plugin provides.
inline constexpr const char* kEventLogStorageService = "event_log_storage";

// The module the bundled SQL plugins record the log's migrations under in busbar_migrations
// (EventLogStorage::migrationModule()).
inline constexpr const char* kEventLogMigrationModule = "busbar_event_log";

// An event of the log: its number (0 until numbered) and the id of the HTTP request that
// emitted it ("" without one), which travels with it to every server.
struct LoggedEvent {
  uint64_t seq = 0;
  Event event;
  std::string request_id;
};

// Since SDK 1.6: LoggedEvent's fields and who caused the event (EventContext::principal, ""
// for nobody), which the log keeps with it so that catch-up and the relay carry it too.
struct LoggedEvent2 {
  uint64_t seq = 0;
  Event event;
  std::string request_id;
  std::string principal;
};

// The log's head: the last number given, and the log's identity.
struct LogHead {
  uint64_t seq = 0;    // the last sequence number given (0: nothing numbered yet)
  std::string log_id;  // made with the log; a database restored from a dump keeps it, a new or
                       // replaced database has another
};

// What prune() keeps: the newest `events` events, and none logged longer than `seconds` ago;
// never an event no broker has confirmed, and never with a hole (it cuts below one number).
struct LogRetention {
  uint64_t events = 1000000;
  int64_t seconds = 7 * 24 * 3600;
};

// The relay lease: which server relays the log, and its heartbeat.
struct RelayLeaseState {
  std::string holder;  // a server_id, "" when nobody holds it
  int64_t beat = 0;    // moved by every hold
};

class BUSBAR_API EventLogStorage : public Service {
 public:
  // Numbers given to events, by event id.
  using Numbers = std::map<std::string, uint64_t>;

  // Who numbers: the writer, as the last statements of its own transaction (a backend where one
  // transaction writes at a time), or any server, after the commits (numberOldest()).
  enum class Numbering { kByWriter, kAfterCommit };

  // What one numberOldest() did: the numbers it gave, and whether events may still wait.
  struct NumberingResult {
    Numbers numbers;
    bool more = false;
  };

  // What became of an event's publication.
  enum class Publication { kConfirmed, kGivenUp };

  // The log's tables, in order, numbered from 1; the host records them under migrationModule(),
  // so a migration once released never changes.
  virtual std::vector<Migration> migrations() = 0;

  // The module migrations() are recorded under. Two implementations share one only when they
  // make the same schema by the same migrations (the bundled SQL plugins:
  // kEventLogMigrationModule); any other names its own, so that it never half-migrates a log
  // another one made. Constant.
  virtual std::string migrationModule() const = 0;

  // Who numbers events on this backend. Constant. The host calls appendNumbered() only under
  // kByWriter, and append(), numberOldest(), numbersOf() and hasUnnumbered() only under
  // kAfterCommit; the other methods under both.
  virtual Numbering numbering() const = 0;

  // Inside `transaction` (the Connection of the writer's open transaction, from
  // Connection::transaction): logs `events` without numbers, stamped by one clock that every
  // server shares (the database server's; `logged_at`, the writer's clock in us since the epoch,
  // is for kByWriter backends only), each next one 1 us later. Numbering goes by the stamp, then
  // by event id: a later version of a row commits after the earlier one's event was stamped, so
  // one row's versions are numbered in their order whatever the servers' clocks say. On failure
  // throws what the storage threw; the writer's transaction then rolls back.
  virtual void append(Connection& transaction, const std::vector<LoggedEvent>& events,
                      int64_t logged_at) = 0;

  // Numbering::kByWriter only, inside `transaction`, as its last statements: takes the next
  // numbers and logs `events` with them, stamped `logged_at` onwards. Returns the numbers.
  virtual Numbers appendNumbered(Connection& transaction, const std::vector<LoggedEvent>& events,
                                 int64_t logged_at) = 0;

  // Numbers the oldest committed events without a number (a batch at most, whoever logged them),
  // in the order they were logged, after the head, and moves the head; committed durably. Under
  // Numbering::kAfterCommit, without a lock held across round trips (see Liveness): when another
  // numbering moved the head first, reads again, a bounded number of times. Returns the numbers
  // given (none when nothing waited or every attempt lost) and whether more may wait.
  virtual NumberingResult numberOldest() = 0;

  // The numbers of the events `ids` (those without one are left out); any number of ids.
  virtual Numbers numbersOf(const std::vector<std::string>& ids) = 0;

  // True when a committed event logged at least `waited` ago, by the clock that stamped it, has
  // no number yet.
  virtual bool hasUnnumbered(std::chrono::microseconds waited) = 0;

  // The clock that stamps events, us since the epoch. On failure throws.
  virtual int64_t clock() = 0;

  // Every table and index of the log's database, by name, with what identifies that one object:
  // a table dropped and made again (a restore) gets another identity; changes to its rows keep
  // it. A backend that can only tell the schema as a whole returns one entry for it. On failure
  // throws.
  virtual std::map<std::string, std::string> tableIdentities() = 0;

  // The head. Throws StorageError when the log's tables are missing.
  virtual LogHead head() = 0;

  // Up to `limit` numbered events with seq > `after`, in seq order, without holes: a number
  // becomes readable only after every smaller one.
  virtual std::vector<LoggedEvent> readAfter(uint64_t after, size_t limit) = 0;

  // The id of the event numbered `seq`, or nothing.
  virtual std::optional<std::string> eventIdAt(uint64_t seq) = 0;

  // True when the event `event_id` is in the log (committed).
  virtual bool contains(const std::string& event_id) = 0;

  // Whether the event `event_id` was committed, decided even while the transaction that logged it
  // may still be open: waits for that transaction to end (at most about `lock_wait_seconds`) and
  // leaves nothing behind. Returns true when it is committed, false when it is not (and now never
  // will be). Throws StorageUnavailable or TransactionConflict when it cannot tell in time.
  virtual bool committedSettled(const std::string& event_id, int lock_wait_seconds) = 0;

  // The lowest number in the log, or nothing when it holds no numbered event.
  virtual std::optional<uint64_t> oldest() = 0;

  // Records `state` for `event_ids`. A confirm wins over giving up, whatever their order.
  virtual void mark(const std::vector<std::string>& event_ids, Publication state) = 0;

  // Up to `limit` numbered events with seq > `after`, in seq order, for the relay: those their
  // publisher gave up, and those never confirmed that were logged before `orphaned_before` (us,
  // by clock()).
  virtual std::vector<LoggedEvent> unpublished(uint64_t after, int64_t orphaned_before,
                                               size_t limit) = 0;

  // The number of numbered events with seq > `after` that no broker confirmed.
  virtual uint64_t countUnpublished(uint64_t after) = 0;

  // Deletes what `retention` does not keep, at `now` (us, by clock()). Returns the events deleted.
  virtual uint64_t prune(const LogRetention& retention, int64_t now) = 0;

  // The relay lease as it is now. Throws StorageError when the log's tables are missing.
  virtual RelayLeaseState relayLease() = 0;

  // Sets the lease's holder to `holder` and its beat to expected.beat + 1, only if the lease is
  // still `expected` (one atomic compare-and-set: a beat never comes back to an earlier value).
  // Returns true when it did.
  virtual bool moveRelayLease(const std::string& holder, const RelayLeaseState& expected) = 0;

  // Empties the lease's holder if it is `holder`.
  virtual void releaseRelayLease(const std::string& holder) = 0;
};

// Since SDK 1.6, optional: an EventLogStorage that keeps who caused each event, and prunes only
// while the relay lease is held. A storage plugin's kEventLogStorageService object implements it
// besides EventLogStorage; the host finds it with dynamic_cast and then logs and reads events
// through these methods, which do what the methods of the same name without the 2 do, principal
// included. Without it the log keeps no principal, events read back from it (catch-up, the relay)
// carry none, and a relay frozen in a prune may delete by limits a restore made stale.
// Thread-safe as EventLogStorage.
class BUSBAR_API EventLogStorage2 : public EventLogStorage {
 public:
  virtual void append2(Connection& transaction, const std::vector<LoggedEvent2>& events,
                       int64_t logged_at) = 0;
  virtual Numbers appendNumbered2(Connection& transaction, const std::vector<LoggedEvent2>& events,
                                  int64_t logged_at) = 0;
  virtual std::vector<LoggedEvent2> readAfter2(uint64_t after, size_t limit) = 0;
  virtual std::vector<LoggedEvent2> unpublished2(uint64_t after, int64_t orphaned_before,
                                                 size_t limit) = 0;

  // Deletes what `retention` does not keep, at `now`, as prune() does, while the relay lease is
  // still `held` (what the caller's last moveRelayLease() made it): every delete is one statement
  // that deletes nothing once the lease row is another. A relay that froze between its reads and
  // its deletes thus deletes nothing after another server took the lease over, or after a
  // restore put back the lease row of an earlier moment (and the log's rows with it, so that its
  // limits no longer hold). On success returns the events deleted (none after the lease moved).
  virtual uint64_t prune2(const LogRetention& retention, int64_t now,
                          const RelayLeaseState& held) = 0;
};

}  // namespace busbar

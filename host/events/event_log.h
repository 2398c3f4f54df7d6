// EventLog: the event log in the application's database, and every statement over it.
//
//   busbar_events       one row per logged event, keyed by event_id: seq (its number, NULL until
//                       numbered; unique), event_type, occurred_on (us), origin, version,
//                       payload (JSON), logged_at (us, by the database server's clock; SQLite:
//                       the writer's), published (0 while
//                       its publisher still has it, 1 once a broker confirmed it, 2 once its
//                       publisher gave it up to the relay), request_id (the X-Request-Id of
//                       the HTTP request that emitted it, NULL without one; migration 2)
//   busbar_event_head   one row: the last sequence number given, and the log's identity, a UUID
//                       made with the log (a database restored from a dump keeps it; a new or
//                       replaced database has another)
//   busbar_event_relay  one row: the server that relays, and its heartbeat (RelayLease)
//
// A writer inserts its events in its own transaction, without numbers (append). Numbers are
// given by numberPending(), which locks the head row, numbers the oldest events still without
// one (up to kNumberingBatch, whichever server logged them) by their primary key, moves the head
// and commits: numbers are gap-free, and a number becomes visible only after every smaller one,
// so a reader at `seq > last` never skips a row that commits late. On SQLite, where one
// transaction writes at a time anyway, the writer numbers inside its own transaction; on MariaDB
// and PostgreSQL every server numbers in short transactions of its own after the commits
// (EventNumberer), so writers' commits do not queue on the head row, one numbering serves every
// writer that committed meanwhile, and what a frozen or dead writer left is numbered by the
// next numbering of any server. docs/architecture.md says why.
//
// Stateless apart from the Connection, which must be the storage plugin's own (not the outbox
// that logs events); thread-safe as that Connection is.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
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

// An event of the log: its number (0 until numbered, or with the log off) and the id of the
// HTTP request that emitted it ("" without one), which travels with it to every server.
struct LoggedEvent {
  uint64_t seq = 0;
  Event event;
  std::string request_id;
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

  // Numbers given to events, by event id.
  using Numbers = std::map<std::string, uint64_t>;

  // Inside `transaction` (the Connection of an open transaction): inserts the events, without
  // numbers, stamped by the database server's clock (SQLite: `logged_at`, us since the epoch),
  // the next ones 1 us later each, so that they are numbered in this order. On failure throws
  // what the storage threw.
  static void append(Connection& transaction, const std::vector<LoggedEvent>& events,
                     int64_t logged_at);

  // Inside `transaction`, where transactions write one at a time (SQLite): takes the next
  // numbers from the head row and inserts the events with them, the last statements before the
  // commit. Returns the numbers.
  static Numbers appendNumbered(Connection& transaction, const std::vector<LoggedEvent>& events,
                                int64_t logged_at);

  // Events numbered by one numbering at most; more wait for the next one.
  static constexpr size_t kNumberingBatch = 2000;
  // Attempts of one numberOldest() that lost to another numbering before it gives up.
  static constexpr int kCompareAndSetAttempts = 20;

  // What a numbering did: the numbers it gave, by event id, and whether it numbered a whole
  // batch (events may still wait).
  struct Numbering {
    Numbers numbers;
    bool more = false;
  };

  // SQLite, inside `transaction`: numbers the oldest events that have no number yet (up to
  // kNumberingBatch, whoever logged them), in the order they were logged, after the head, and
  // moves the head, under the database's write lock, which one transaction holds at a time
  // anyway. numberOldest() numbers MariaDB's and PostgreSQL's without a lock held across
  // statements.
  static Numbering numberPending(Connection& transaction);

  // The head and the oldest events waiting for a number (up to kNumberingBatch), in the order
  // they are to be numbered.
  struct Waiting {
    int64_t head = 0;
    std::vector<std::string> ids;
  };

  // MariaDB, PostgreSQL: reads the head and what waits, from one snapshot, without a lock. On
  // failure throws.
  Waiting waiting();

  // MariaDB, PostgreSQL: gives `waiting`'s events the numbers after its head, in its order, and
  // moves the head past them, in one statement that does so only while the head is still where
  // `waiting` read it (a compare-and-set), committed durably. Returns the numbers given: all of
  // `waiting`'s, or none when another numbering moved the head since. On failure throws.
  Numbers numberIfHeadUnmoved(const Waiting& waiting);

  // True when writers number inside their own transaction (SQLite: one writer at a time).
  bool numbersInsideTransactions() const;

  // Numbers the oldest events that have no number yet (up to kNumberingBatch, whoever logged
  // them), in the order they were logged, after the head, and moves the head; committed durably.
  // Any server may number any waiting event: that is what keeps a frozen or dead writer's events
  // from waiting for it, and numbering the oldest first numbers one key's versions in their order
  // (an event is committed before the next version of its key is written, and so stamped
  // earlier). On MariaDB and PostgreSQL it reads what waits, then numbers it in one statement
  // that succeeds only while the head is where it was read (a compare-and-set), so no lock is
  // ever held while the database waits for this client; it reads again after losing to another
  // numbering, up to kCompareAndSetAttempts times. SQLite numbers with numberPending(). Returns
  // the numbers given (none when nothing waited or every attempt lost). On failure throws.
  Numbering numberOldest();

  // The numbers the events `ids` have (those without one are left out); any number of ids.
  Numbers numbersOf(const std::vector<std::string>& ids);

  // True when some committed event logged at least `waited` ago (by the clock that stamped it)
  // has no number yet: its writer died, froze or gave it to the log between its commit and the
  // numbering.
  bool hasUnnumbered(std::chrono::microseconds waited = std::chrono::microseconds(0));

  // The database server's clock, us since the epoch, as logged_at is stamped (SQLite: this
  // process's clock). On failure throws.
  int64_t clock();

  // Every table and index of the database's schema (the one the log is in), by name, with what
  // identifies that one object: a table dropped and created again (a restore) gets another, and
  // so does one emptied by TRUNCATE on PostgreSQL (MariaDB: the creation time, by the second;
  // SQLite: the schema's version, under one name). Changes made inside a table leave it as it is.
  // On failure throws.
  std::map<std::string, std::string> tableIdentities();

  // The head row. Throws StorageError when the log's tables are missing.
  LogHead head();

  // The head and the id of the event logged at it: what a cache loaded after this read reflects.
  LogPosition position();

  // Up to `limit` events with seq > `after`, in seq order.
  std::vector<LoggedEvent> readAfter(uint64_t after, size_t limit);

  // The id of the event logged at `seq`, or nothing when there is no such row.
  std::optional<std::string> eventIdAt(uint64_t seq);

  // Whether the event `event_id` was committed, decided even while the transaction that
  // inserted it may still be open: it tries to insert the same id in a transaction of its own,
  // which waits for that one to end (at most `lock_wait_seconds` where the backend can bound
  // the wait), then rolls back. Returns true when the id is taken.
  bool committedSettled(const std::string& event_id, int lock_wait_seconds);

  // True when the event `event_id` is in the log.
  bool contains(const std::string& event_id);

  // The lowest seq in the log, or nothing when it is empty.
  std::optional<uint64_t> oldest();

  // What became of an event's publication.
  enum class Publication { kConfirmed, kGivenUp };

  // Records `state` for the events `event_ids`. A confirm wins over giving up, whatever their
  // order.
  void mark(const std::vector<std::string>& event_ids, Publication state);

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

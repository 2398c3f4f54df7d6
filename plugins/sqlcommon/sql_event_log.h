// SqlEventLog: EventLogStorage2 in SQL over a storage plugin's own Connection, shared by the
// bundled backends. Each backend derives from it and gives what its dialect does differently: how
// events are stamped and numbered, how a wait for a lock is bounded, how a table's identity is
// read. The methods without the 2 go through those with it (principal "" in, dropped out), so that
// both kinds of caller meet the same statements.
//
//   busbar_events       one row per logged event, keyed by event_id: seq (its number, NULL until
//                       numbered; unique), event_type, occurred_on (us), origin, version,
//                       payload (JSON), logged_at (us, by clock()), published (0 while its
//                       publisher still has it, 1 once a broker confirmed it, 2 once its
//                       publisher gave it up to the relay), request_id (NULL without one),
//                       principal (who caused it, NULL for nobody; since migration 5)
//   busbar_event_head   one row: the last number given, and the log's identity (a UUID)
//   busbar_event_relay  one row: the server that relays, and its heartbeat
//
// Numbering reads the head and the oldest events without a number (ordered by logged_at, then
// event_id), then gives them the numbers after the head in one statement that moves the head only
// while it is where it was read: no lock is held between statements (event_log_storage.h,
// Liveness). A reader at `seq > last` never skips a row that commits late, because a number
// becomes visible only with the head's move, after every smaller one.
//
// Thread-safe as the Connection is.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "busbar/event_log_storage.h"
#include "busbar/storage.h"

namespace busbar::sql {

class SqlEventLog : public EventLogStorage2 {
 public:
  // Events numbered by one numbering at most; more wait for the next one.
  static constexpr size_t kNumberingBatch = 2000;
  // Attempts of one numberOldest() that lost to another numbering before it gives up.
  static constexpr int kCompareAndSetAttempts = 20;

  // `storage` is the backend's own Connection (never one that logs events itself).
  explicit SqlEventLog(std::shared_ptr<Connection> storage) : storage_(std::move(storage)) {}

  std::vector<Migration> migrations() override;
  std::string migrationModule() const override { return kEventLogMigrationModule; }
  // The methods without the 2 are final: a backend overrides the 2 methods, which they call.
  void append(Connection& transaction, const std::vector<LoggedEvent>& events,
              int64_t logged_at) final;
  Numbers appendNumbered(Connection& transaction, const std::vector<LoggedEvent>& events,
                         int64_t logged_at) final;
  void append2(Connection& transaction, const std::vector<LoggedEvent2>& events,
               int64_t logged_at) override;
  Numbers appendNumbered2(Connection& transaction, const std::vector<LoggedEvent2>& events,
                          int64_t logged_at) override;
  NumberingResult numberOldest() override;
  Numbers numbersOf(const std::vector<std::string>& ids) override;
  bool hasUnnumbered(std::chrono::microseconds waited) override;
  int64_t clock() override;
  std::map<std::string, std::string> tableIdentities() override;
  LogHead head() override;
  std::vector<LoggedEvent> readAfter(uint64_t after, size_t limit) final;
  std::vector<LoggedEvent2> readAfter2(uint64_t after, size_t limit) override;
  std::optional<std::string> eventIdAt(uint64_t seq) override;
  bool contains(const std::string& event_id) override;
  bool committedSettled(const std::string& event_id, int lock_wait_seconds) override;
  std::optional<uint64_t> oldest() override;
  void mark(const std::vector<std::string>& event_ids, Publication state) override;
  std::vector<LoggedEvent> unpublished(uint64_t after, int64_t orphaned_before, size_t limit) final;
  std::vector<LoggedEvent2> unpublished2(uint64_t after, int64_t orphaned_before,
                                         size_t limit) override;
  uint64_t countUnpublished(uint64_t after) override;
  uint64_t prune(const LogRetention& retention, int64_t now) override;
  uint64_t prune2(const LogRetention& retention, int64_t now, const RelayLeaseState& held) override;
  RelayLeaseState relayLease() override;
  bool moveRelayLease(const std::string& holder, const RelayLeaseState& expected) override;
  void releaseRelayLease(const std::string& holder) override;

  // The head and the oldest events waiting for a number (up to kNumberingBatch), in the order
  // they are to be numbered.
  struct Waiting {
    int64_t head = 0;
    std::vector<std::string> ids;
  };

  // Numbering::kAfterCommit: reads the head and what waits, from one snapshot, without a lock.
  Waiting waiting();

  // Numbering::kAfterCommit: gives `waiting`'s events the numbers after its head, in its order,
  // and moves the head past them, in one statement that does so only while the head is still
  // where `waiting` read it. Returns the numbers given: all of `waiting`'s, or none when another
  // numbering moved the head since. The default throws StorageError (a kByWriter backend).
  virtual Numbers numberIfHeadUnmoved(const Waiting& waiting);

 protected:
  Connection& storage() { return *storage_; }

  // The SQL expression, with one placeholder for the offset, that stamps logged_at by the
  // database server's clock; "?" where the writer's clock stamps (the value bound as it is).
  virtual const char* stampSql() const = 0;

  // The type a CAST to a 64-bit integer names.
  virtual const char* integerType() const { return "BIGINT"; }

  // One statement that reads every table and index of the schema as (name, made) rows, `made`
  // naming that one object (tableIdentities()).
  virtual std::string tableIdentitiesSql() const = 0;

  // Inside `transaction`: bounds how long its statements wait for a row lock to `seconds`, until
  // unboundLockWait(); the defaults do nothing (the backend's busy timeout bounds it).
  virtual void boundLockWait(Connection& transaction, int seconds) {}
  virtual void unboundLockWait(Connection& transaction) noexcept {}

  // The index that lets the relay find unconfirmed events without reading the whole log.
  virtual std::string unpublishedIndexSql() const = 0;

  // Logs `logged` numbered `seq` (NULL: not yet), logged_at by `stamp` bound to `logged_at`, its
  // principal with it (NULL for "").
  static void insertEvent(Connection& transaction, const LoggedEvent2& logged, Value seq,
                          int64_t logged_at, const char* stamp = "?");

  // " WHEN ? THEN CAST(? AS <integerType()>)" for each of `waiting`'s events (padded, see
  // paddedLength), giving them the numbers after its head in its order: the cases of a CASE
  // event_id, whose values are appended to `params` and the numbers put in `numbers`.
  std::string numberCases(const Waiting& waiting, std::vector<Value>& params,
                          Numbers& numbers) const;

  // The length a list of `count` values is sent with: the next power of two, the last value
  // repeated (which changes neither an IN (...) nor a CASE). The SQL built for a list then takes
  // one of a few forms, which sessions keep prepared, where each length would be one of its own.
  static size_t paddedLength(size_t count);

  // " IN (?, ?, ...)" for `ids`[from, to) padded (paddedLength), their values appended to
  // `params`.
  static std::string inList(const std::vector<std::string>& ids, size_t from, size_t to,
                            std::vector<Value>& params);

 private:
  // The lowest seq a prune by `retention` at `now` keeps: the newest `retention.events`, none
  // logged before the age limit, and every one from the first that no broker confirmed.
  uint64_t keepFrom(const LogRetention& retention, int64_t now);

  // Deletes the events below `keep_from`, in chunks; with a `fence`, each chunk only while the
  // relay lease is still that row. Returns the events deleted.
  uint64_t deleteBelow(uint64_t keep_from, const std::optional<RelayLeaseState>& fence);

  std::shared_ptr<Connection> storage_;
};

}  // namespace busbar::sql

// OdbcEventLog: busbar::EventLogStorage2 (SDK 1.6: the log keeps who caused each event) in
// PostgreSQL's SQL over the plugin's own Connection. The methods without the 2 go through those
// with it (principal "" in, dropped out), so that both kinds of caller meet the same statements.
//
//   busbar_events       one row per logged event, keyed by event_id: seq (NULL until numbered;
//                       unique), event_type, occurred_on (us), origin, version, payload (JSON),
//                       logged_at (us, by the database server's clock), published (0 while its
//                       publisher has it, 1 confirmed, 2 given up to the relay), request_id,
//                       principal (who caused it, NULL for nobody; since migration 2)
//   busbar_event_head   one row: the last number given, and the log's identity (a UUID)
//   busbar_event_relay  one row: the server that relays, and its heartbeat
//
// Numbering (Numbering::kAfterCommit) reads the head and the oldest events without a number in
// one plain SELECT, then numbers them in one statement that moves the head only while it is
// where it was read (a compare-and-set): no lock is held between round trips, so a server frozen
// between them stops no one. A number becomes visible only with the head's move, after every
// smaller one. Numbers commit durably (the plugin never turns synchronous_commit off).
// Thread-safe as the Connection is.
#pragma once

#include <memory>
#include <optional>

#include <busbar/event_log_storage.h>

namespace odbc_storage {

class OdbcEventLog : public busbar::EventLogStorage2 {
 public:
  // Events numbered by one numbering at most; more wait for the next.
  static constexpr size_t kNumberingBatch = 1000;
  // Attempts of one numberOldest() that lost to another numbering before it gives up.
  static constexpr int kCompareAndSetAttempts = 20;

  // `storage`: the plugin's own Connection.
  explicit OdbcEventLog(std::shared_ptr<busbar::Connection> storage)
      : storage_(std::move(storage)) {}

  std::vector<busbar::Migration> migrations() override;
  // A schema of its own (not the bundled plugins' migrations), so a module of its own.
  std::string migrationModule() const override { return "odbc_storage_event_log"; }
  Numbering numbering() const override { return Numbering::kAfterCommit; }
  void append(busbar::Connection& transaction, const std::vector<busbar::LoggedEvent>& events,
              int64_t logged_at) override;
  Numbers appendNumbered(busbar::Connection& transaction,
                         const std::vector<busbar::LoggedEvent>& events,
                         int64_t logged_at) override;
  void append2(busbar::Connection& transaction, const std::vector<busbar::LoggedEvent2>& events,
               int64_t logged_at) override;
  Numbers appendNumbered2(busbar::Connection& transaction,
                          const std::vector<busbar::LoggedEvent2>& events,
                          int64_t logged_at) override;
  NumberingResult numberOldest() override;
  Numbers numbersOf(const std::vector<std::string>& ids) override;
  bool hasUnnumbered(std::chrono::microseconds waited) override;
  int64_t clock() override;
  std::map<std::string, std::string> tableIdentities() override;
  busbar::LogHead head() override;
  std::vector<busbar::LoggedEvent> readAfter(uint64_t after, size_t limit) override;
  std::vector<busbar::LoggedEvent2> readAfter2(uint64_t after, size_t limit) override;
  std::optional<std::string> eventIdAt(uint64_t seq) override;
  bool contains(const std::string& event_id) override;
  bool committedSettled(const std::string& event_id, int lock_wait_seconds) override;
  std::optional<uint64_t> oldest() override;
  void mark(const std::vector<std::string>& event_ids, Publication state) override;
  std::vector<busbar::LoggedEvent> unpublished(uint64_t after, int64_t orphaned_before,
                                               size_t limit) override;
  std::vector<busbar::LoggedEvent2> unpublished2(uint64_t after, int64_t orphaned_before,
                                                 size_t limit) override;
  uint64_t countUnpublished(uint64_t after) override;
  uint64_t prune(const busbar::LogRetention& retention, int64_t now) override;
  uint64_t prune2(const busbar::LogRetention& retention, int64_t now,
                  const busbar::RelayLeaseState& held) override;
  busbar::RelayLeaseState relayLease() override;
  bool moveRelayLease(const std::string& holder, const busbar::RelayLeaseState& expected) override;
  void releaseRelayLease(const std::string& holder) override;

 private:
  // The lowest seq a prune by `retention` at `now` keeps.
  uint64_t keepFrom(const busbar::LogRetention& retention, int64_t now);
  // Deletes the events below `keep_from`, in chunks; with a `fence`, each chunk only while the
  // relay lease is still that row. Returns the events deleted.
  uint64_t deleteBelow(uint64_t keep_from, const std::optional<busbar::RelayLeaseState>& fence);

  std::shared_ptr<busbar::Connection> storage_;
};

}  // namespace odbc_storage

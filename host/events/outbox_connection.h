// OutboxConnection: the "storage" Connection modules get. It forwards every call to the storage
// plugin's Connection, and makes the events dispatched inside a transaction part of it (the
// transactional outbox).
//
// While a thread runs the work of transaction(), the events the event bus is handed on that
// thread wait in the transaction (pendingOnThisThread()). When the work returns they are written
// to the event log as its last statements (EventLogStorage::append, or appendNumbered where the
// writer numbers: Numbering::kByWriter), and once the commit succeeded they go to the
// CommittedEvents sink with their numbers: at once when numbered inside the transaction, else
// through the EventNumberer, which numbers them off the writer's thread (kAfterCommit). A
// transaction that throws publishes nothing. A transaction() on a thread that already runs one
// joins it, as the SDK promises for nested calls.
//
// A commit whose connection breaks (StorageUnavailable after the work and the log's statements
// ran) is ambiguous; it is settled from the log (settleCommit): committed, and the events go out
// as after any commit and transaction() returns; not committed, and it throws
// StorageUnavailable saying so; undecided in time, and it throws OutcomeUnknown. Whatever it
// throws, every server follows the log, so caches end equal to the database.
//
// With the log off (`log` null) the events still wait for the commit, and go out without a
// sequence number. Thread-safe, as the plugin's Connection is.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <Poco/Logger.h>

#include "busbar/errors.h"
#include "busbar/storage.h"
#include "events/commit_settler.h"
#include "events/event_log.h"
#include "events/event_numberer.h"

namespace busbar::host {

// Where the events of a committed transaction go (the event bus).
class CommittedEvents {
 public:
  virtual ~CommittedEvents() = default;
  // `events` committed; seq 0 when the log is off. Must not throw.
  virtual void publishCommitted(std::vector<LoggedEvent2> events) noexcept = 0;
};

class OutboxConnection : public Connection {
 public:
  // `storage` is the plugin's Connection; `log` may be null (the log is off). `log` and `sink`
  // must outlive this object.
  OutboxConnection(std::shared_ptr<Connection> storage, EventLogStorage2* log,
                   CommittedEvents& sink, SettleOptions settle, Poco::Logger& logger);

  // The events waiting in the transaction the calling thread runs (not numbered yet, with the id
  // of the request that emitted them), or null when it runs none.
  static std::vector<LoggedEvent2>* pendingOnThisThread();

  std::string driver() const override { return storage_->driver(); }
  void insert(const std::string& table, const Row& values) override;
  uint64_t update(const std::string& table, const Row& values, const Row& where) override;
  void upsert(const std::string& table, const Row& values,
              const std::vector<std::string>& key_columns) override;
  uint64_t remove(const std::string& table, const Row& where) override;
  std::optional<Row> findOne(const std::string& table, const Row& where) override;
  std::vector<Row> findAll(const std::string& table, const Row& where,
                           const FindOptions& options = {}) override;
  ExecuteResult execute(const std::string& sql, const std::vector<Value>& params = {}) override;
  void createTable(const TableSchema& schema) override;
  void transaction(const std::function<void(Connection&)>& work) override;

  // The plugin's Connection, for the host's own statements.
  Connection& storage() { return *storage_; }

  // Starts and stops numbering committed events after their commit (MariaDB, PostgreSQL); stop
  // hands on what was committed before it.
  void start();
  void stop() noexcept;

 private:
  // Returns when the broken COMMIT committed; throws what the client is to learn otherwise.
  void settleAmbiguousCommit(const std::vector<LoggedEvent2>& events,
                             const StorageUnavailable& error);
  // Hands the events to the sink with their `numbers`, or to the numberer when they have none
  // yet.
  void publishNumbered(std::vector<LoggedEvent2>& events, const EventLogStorage::Numbers& numbers);

  const std::shared_ptr<Connection> storage_;
  EventLogStorage2* const log_;
  std::unique_ptr<EventNumberer> numberer_;  // with a log numbered after commits
  CommittedEvents& sink_;
  const SettleOptions settle_;
  Poco::Logger& logger_;
};

}  // namespace busbar::host

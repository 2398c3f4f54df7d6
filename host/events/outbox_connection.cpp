#include "events/outbox_connection.h"

#include <Poco/Timestamp.h>

#include "busbar/errors.h"

namespace busbar::host {
namespace {

// The transaction the current thread runs through an OutboxConnection.
struct OpenTransaction {
  const OutboxConnection* owner = nullptr;
  Connection* bound = nullptr;       // the plugin's Connection of this transaction
  std::vector<LoggedEvent2> events;  // dispatched inside it, in order
};

thread_local OpenTransaction* open_transaction = nullptr;

// Makes `scope` the thread's open transaction until it goes.
class OpenScope {
 public:
  explicit OpenScope(OpenTransaction& scope) : previous_(open_transaction) {
    open_transaction = &scope;
  }
  ~OpenScope() { close(); }
  void close() { open_transaction = previous_; }

 private:
  OpenTransaction* previous_;
};

}  // namespace

OutboxConnection::OutboxConnection(std::shared_ptr<Connection> storage, EventLogStorage2* log,
                                   CommittedEvents& sink, SettleOptions settle,
                                   Poco::Logger& logger)
    : storage_(std::move(storage)), log_(log), sink_(sink), settle_(settle), logger_(logger) {
  if (log_ != nullptr && log_->numbering() == EventLogStorage::Numbering::kAfterCommit) {
    numberer_ = std::make_unique<EventNumberer>(*log_, sink_, logger_);
  }
}

std::vector<LoggedEvent2>* OutboxConnection::pendingOnThisThread() {
  return open_transaction != nullptr ? &open_transaction->events : nullptr;
}

void OutboxConnection::insert(const std::string& table, const Row& values) {
  storage_->insert(table, values);
}

uint64_t OutboxConnection::update(const std::string& table, const Row& values, const Row& where) {
  return storage_->update(table, values, where);
}

void OutboxConnection::upsert(const std::string& table, const Row& values,
                              const std::vector<std::string>& key_columns) {
  storage_->upsert(table, values, key_columns);
}

uint64_t OutboxConnection::remove(const std::string& table, const Row& where) {
  return storage_->remove(table, where);
}

std::optional<Row> OutboxConnection::findOne(const std::string& table, const Row& where) {
  return storage_->findOne(table, where);
}

std::vector<Row> OutboxConnection::findAll(const std::string& table, const Row& where,
                                           const FindOptions& options) {
  return storage_->findAll(table, where, options);
}

ExecuteResult OutboxConnection::execute(const std::string& sql, const std::vector<Value>& params) {
  return storage_->execute(sql, params);
}

void OutboxConnection::createTable(const TableSchema& schema) { storage_->createTable(schema); }

void OutboxConnection::transaction(const std::function<void(Connection&)>& work) {
  if (open_transaction != nullptr && open_transaction->owner == this) {
    work(*open_transaction->bound);  // joins the thread's transaction
    return;
  }
  OpenTransaction scope;
  scope.owner = this;
  OpenScope open(scope);
  EventLogStorage::Numbers numbers;
  bool committing = false;  // the work and the log's statements ran; only COMMIT is left
  try {
    storage_->transaction([&](Connection& bound) {
      scope.bound = &bound;
      work(bound);
      if (log_ != nullptr && !scope.events.empty()) {
        const int64_t now = Poco::Timestamp().epochMicroseconds();
        if (log_->numbering() == EventLogStorage::Numbering::kByWriter) {
          numbers = log_->appendNumbered2(bound, scope.events, now);
        } else {
          log_->append2(bound, scope.events, now);
        }
      }
      committing = true;
    });
  } catch (const StorageUnavailable& error) {
    if (!committing) throw;
    open.close();  // nothing dispatched while settling belongs to this transaction
    settleAmbiguousCommit(scope.events, error);
  }
  open.close();
  if (scope.events.empty()) return;
  if (log_ == nullptr) {
    sink_.publishCommitted(std::move(scope.events));
    return;
  }
  publishNumbered(scope.events, numbers);
}

void OutboxConnection::settleAmbiguousCommit(const std::vector<LoggedEvent2>& events,
                                             const StorageUnavailable& error) {
  if (log_ == nullptr || events.empty()) {
    throw OutcomeUnknown(std::string("the connection broke during COMMIT and whether it took "
                                     "effect is unknown (") +
                         error.what() + "); read the data back before writing again");
  }
  std::string detail;
  CommitOutcome outcome = settleCommit(*log_, events.front().event.id, settle_, detail);
  if (outcome == CommitOutcome::kNotCommitted) {
    throw StorageUnavailable(std::string("the commit failed and did not take effect (") + detail +
                             "): " + error.what() + "; retry");
  }
  if (outcome == CommitOutcome::kUnknown) {
    logger_.warning("a commit's outcome is unknown (" + detail +
                    "); its events reach every "
                    "server from the event log if it took effect");
    throw OutcomeUnknown(std::string("the connection broke during COMMIT and whether it took "
                                     "effect could not be settled in time (") +
                         detail +
                         "); every server follows the database either way; read the "
                         "data back before writing again");
  }
  logger_.information("a commit whose connection broke did take effect (" + detail + ")");
}

void OutboxConnection::publishNumbered(std::vector<LoggedEvent2>& events,
                                       const EventLogStorage::Numbers& numbers) {
  if (numbers.empty() && numberer_) {
    numberer_->submit(std::move(events));  // numbered after the commit, off this thread
    return;
  }
  std::vector<LoggedEvent2> committed;
  committed.reserve(events.size());
  for (auto& logged : events) {
    auto found = numbers.find(logged.event.id);
    if (found == numbers.end()) continue;
    logged.seq = found->second;
    committed.push_back(std::move(logged));
  }
  sink_.publishCommitted(std::move(committed));
}

void OutboxConnection::start() {
  if (numberer_) numberer_->start();
}

void OutboxConnection::stop() noexcept {
  if (numberer_) numberer_->stop();
}

}  // namespace busbar::host

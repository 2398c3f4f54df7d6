// PrincipalFreeEventLog: the EventLogStorage2 the host works with over a storage plugin's
// EventLogStorage of SDK 1.3 to 1.5, which keeps no principal: events are logged without theirs,
// and read back with "" (docs/events.md says so for such a plugin); and which prunes without the
// relay lease's fence.
//
// withPrincipals() gives the plugin's own object when it implements EventLogStorage2, so that
// the adapter only stands in where it has to. Thread-safe as the wrapped storage.
#pragma once

#include <memory>

#include "busbar/event_log_storage.h"

namespace busbar::host {

class PrincipalFreeEventLog : public EventLogStorage2 {
 public:
  explicit PrincipalFreeEventLog(std::shared_ptr<EventLogStorage> log) : log_(std::move(log)) {}

  // EventLogStorage2: the principal is dropped on the way in and "" on the way out.
  void append2(Connection& transaction, const std::vector<LoggedEvent2>& events,
               int64_t logged_at) override;
  Numbers appendNumbered2(Connection& transaction, const std::vector<LoggedEvent2>& events,
                          int64_t logged_at) override;
  std::vector<LoggedEvent2> readAfter2(uint64_t after, size_t limit) override;
  std::vector<LoggedEvent2> unpublished2(uint64_t after, int64_t orphaned_before,
                                         size_t limit) override;
  // The plugin's prune, without the lease's fence, which SDK 1.3 to 1.5 did not have.
  uint64_t prune2(const LogRetention& retention, int64_t now, const RelayLeaseState&) override {
    return log_->prune(retention, now);
  }

  // EventLogStorage: forwarded as they are.
  std::vector<Migration> migrations() override { return log_->migrations(); }
  std::string migrationModule() const override { return log_->migrationModule(); }
  Numbering numbering() const override { return log_->numbering(); }
  void append(Connection& transaction, const std::vector<LoggedEvent>& events,
              int64_t logged_at) override {
    log_->append(transaction, events, logged_at);
  }
  Numbers appendNumbered(Connection& transaction, const std::vector<LoggedEvent>& events,
                         int64_t logged_at) override {
    return log_->appendNumbered(transaction, events, logged_at);
  }
  NumberingResult numberOldest() override { return log_->numberOldest(); }
  Numbers numbersOf(const std::vector<std::string>& ids) override { return log_->numbersOf(ids); }
  bool hasUnnumbered(std::chrono::microseconds waited) override {
    return log_->hasUnnumbered(waited);
  }
  int64_t clock() override { return log_->clock(); }
  std::map<std::string, std::string> tableIdentities() override { return log_->tableIdentities(); }
  LogHead head() override { return log_->head(); }
  std::vector<LoggedEvent> readAfter(uint64_t after, size_t limit) override {
    return log_->readAfter(after, limit);
  }
  std::optional<std::string> eventIdAt(uint64_t seq) override { return log_->eventIdAt(seq); }
  bool contains(const std::string& event_id) override { return log_->contains(event_id); }
  bool committedSettled(const std::string& event_id, int lock_wait_seconds) override {
    return log_->committedSettled(event_id, lock_wait_seconds);
  }
  std::optional<uint64_t> oldest() override { return log_->oldest(); }
  void mark(const std::vector<std::string>& event_ids, Publication state) override {
    log_->mark(event_ids, state);
  }
  std::vector<LoggedEvent> unpublished(uint64_t after, int64_t orphaned_before,
                                       size_t limit) override {
    return log_->unpublished(after, orphaned_before, limit);
  }
  uint64_t countUnpublished(uint64_t after) override { return log_->countUnpublished(after); }
  uint64_t prune(const LogRetention& retention, int64_t now) override {
    return log_->prune(retention, now);
  }
  RelayLeaseState relayLease() override { return log_->relayLease(); }
  bool moveRelayLease(const std::string& holder, const RelayLeaseState& expected) override {
    return log_->moveRelayLease(holder, expected);
  }
  void releaseRelayLease(const std::string& holder) override { log_->releaseRelayLease(holder); }

 private:
  std::shared_ptr<EventLogStorage> log_;
};

// `log` as an EventLogStorage2: itself when it implements that, else a PrincipalFreeEventLog
// over it. Null for null.
std::shared_ptr<EventLogStorage2> withPrincipals(std::shared_ptr<EventLogStorage> log);

}  // namespace busbar::host

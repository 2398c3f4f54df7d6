#include "events/principal_free_event_log.h"

namespace busbar::host {
namespace {

std::vector<LoggedEvent> withoutPrincipals(const std::vector<LoggedEvent2>& events) {
  std::vector<LoggedEvent> plain;
  plain.reserve(events.size());
  for (const auto& logged : events) plain.push_back({logged.seq, logged.event, logged.request_id});
  return plain;
}

std::vector<LoggedEvent2> withEmptyPrincipals(std::vector<LoggedEvent> events) {
  std::vector<LoggedEvent2> attributed;
  attributed.reserve(events.size());
  for (auto& logged : events) {
    attributed.push_back({logged.seq, std::move(logged.event), std::move(logged.request_id), {}});
  }
  return attributed;
}

}  // namespace

void PrincipalFreeEventLog::append2(Connection& transaction,
                                    const std::vector<LoggedEvent2>& events, int64_t logged_at) {
  log_->append(transaction, withoutPrincipals(events), logged_at);
}

EventLogStorage::Numbers PrincipalFreeEventLog::appendNumbered2(
    Connection& transaction, const std::vector<LoggedEvent2>& events, int64_t logged_at) {
  return log_->appendNumbered(transaction, withoutPrincipals(events), logged_at);
}

std::vector<LoggedEvent2> PrincipalFreeEventLog::readAfter2(uint64_t after, size_t limit) {
  return withEmptyPrincipals(log_->readAfter(after, limit));
}

std::vector<LoggedEvent2> PrincipalFreeEventLog::unpublished2(uint64_t after,
                                                              int64_t orphaned_before,
                                                              size_t limit) {
  return withEmptyPrincipals(log_->unpublished(after, orphaned_before, limit));
}

std::shared_ptr<EventLogStorage2> withPrincipals(std::shared_ptr<EventLogStorage> log) {
  if (!log) return nullptr;
  if (auto attributed = std::dynamic_pointer_cast<EventLogStorage2>(log)) return attributed;
  return std::make_shared<PrincipalFreeEventLog>(std::move(log));
}

}  // namespace busbar::host

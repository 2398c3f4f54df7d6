#include "events/commit_settler.h"

#include <algorithm>
#include <thread>

namespace busbar::host {
namespace {

// One look at the log.
CommitOutcome look(EventLogStorage& log, const std::string& event_id, int lock_wait,
                   std::string& detail) {
  if (log.contains(event_id) || log.committedSettled(event_id, lock_wait)) {
    detail = "its event " + event_id + " is in the log";
    return CommitOutcome::kCommitted;
  }
  detail = "its event " + event_id + " is not in the log, and no open transaction holds it";
  return CommitOutcome::kNotCommitted;
}

}  // namespace

CommitOutcome settleCommit(EventLogStorage& log, const std::string& event_id,
                           const SettleOptions& options, std::string& detail) {
  const auto deadline = std::chrono::steady_clock::now() + options.deadline;
  auto pause = options.retry_initial;
  for (;;) {
    try {
      return look(log, event_id, options.lock_wait_seconds, detail);
    } catch (const std::exception& error) {
      detail = error.what();
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return CommitOutcome::kUnknown;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(1000));
  }
}

}  // namespace busbar::host

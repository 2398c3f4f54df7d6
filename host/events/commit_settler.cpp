#include "events/commit_settler.h"

#include <algorithm>
#include <thread>

namespace busbar::host {
namespace {

// One look at the log; kUnknown when it cannot tell yet.
CommitOutcome look(EventLog& log, uint64_t seq, const std::string& event_id, int lock_wait,
                   std::string& detail) {
  if (auto id = log.eventIdAt(seq)) {
    detail = *id == event_id ? "its event is in the log at seq " + std::to_string(seq)
                             : "another event took seq " + std::to_string(seq);
    return *id == event_id ? CommitOutcome::kCommitted : CommitOutcome::kNotCommitted;
  }
  if (log.head().seq >= seq) {
    detail = "the log's head passed seq " + std::to_string(seq) + " without its event";
    return CommitOutcome::kNotCommitted;
  }
  auto settled = log.eventIdAtSettled(seq, lock_wait);
  if (settled && *settled == event_id) {
    detail = "its event is in the log at seq " + std::to_string(seq);
    return CommitOutcome::kCommitted;
  }
  detail = "no open transaction holds seq " + std::to_string(seq) + " and the log lacks its event";
  return CommitOutcome::kNotCommitted;
}

}  // namespace

CommitOutcome settleCommit(EventLog& log, uint64_t seq, const std::string& event_id,
                           const SettleOptions& options, std::string& detail) {
  const auto deadline = std::chrono::steady_clock::now() + options.deadline;
  auto pause = options.retry_initial;
  for (;;) {
    try {
      return look(log, seq, event_id, options.lock_wait_seconds, detail);
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

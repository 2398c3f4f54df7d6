// settleCommit: whether a transaction whose COMMIT got no answer (its connection broke) did
// commit, decided from the event log.
//
// The transaction logged an event with id `event_id`. Its row in the log means it committed.
// When the row is not there, the answer comes from inserting the same id in a transaction of
// one's own: the insert waits while the first transaction is still open, and then fails if it
// committed, or goes through (and is rolled back) if it did not. Reads that fail (the database
// is still away) are tried again with growing pauses until `deadline`; then the outcome is
// unknown. Stateless; safe from any thread.
#pragma once

#include <chrono>
#include <string>

#include "events/event_log.h"

namespace busbar::host {

enum class CommitOutcome { kCommitted, kNotCommitted, kUnknown };

struct SettleOptions {
  std::chrono::milliseconds deadline{5000};
  std::chrono::milliseconds retry_initial{50};
  int lock_wait_seconds = 2;
};

// The outcome; `detail` says what decided it (or the last error, when unknown).
CommitOutcome settleCommit(EventLogStorage& log, const std::string& event_id,
                           const SettleOptions& options, std::string& detail);

}  // namespace busbar::host

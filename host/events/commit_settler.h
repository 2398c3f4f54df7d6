// settleCommit: whether a transaction whose COMMIT got no answer (its connection broke) did
// commit, decided from the event log.
//
// The transaction logged its first event at `seq` with id `event_id`. The row at `seq` holding
// that id means it committed; another event at `seq`, or the head past `seq` without it, means it
// did not (sequence numbers are taken in commit order, so a number passed by a committed
// transaction was released by ours). When the row is not there yet, the answer is read once more
// behind the head row's lock, which no transaction still open holds then. Reads that fail (the
// database is still away) are tried again with growing pauses until `deadline`; then the outcome
// is unknown. Stateless; safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>
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
CommitOutcome settleCommit(EventLog& log, uint64_t seq, const std::string& event_id,
                           const SettleOptions& options, std::string& detail);

}  // namespace busbar::host

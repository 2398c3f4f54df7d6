// The host's side of the event log: where a server is in it, and which log it follows. The log's
// records are the storage plugin's (busbar/event_log_storage.h); the policy over them is the
// host's (EventNumberer, EventLogFollower, EventRelay, settleCommit).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "busbar/event_log_storage.h"

namespace busbar::host {

// A position in the log: a sequence number and the id of the event logged there ("" at 0).
struct LogPosition {
  uint64_t seq = 0;
  std::string event_id;
};

// The identity of the event log this server follows: set when the follower reads the log's
// head, read by what publishes and consumes logged events. Thread-safe.
class LogIdentity {
 public:
  std::string get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return id_;
  }
  void set(std::string id) {
    std::lock_guard<std::mutex> lock(mutex_);
    id_ = std::move(id);
  }

 private:
  mutable std::mutex mutex_;
  std::string id_;
};

}  // namespace busbar::host

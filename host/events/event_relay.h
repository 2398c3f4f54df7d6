// EventRelay: publishes again, from the event log, the logged events no broker confirmed (their
// server crashed before publishing, its publish queue overflowed, its broker blocked publishers),
// so that every logged event reaches the broker at least once. Runs on its own thread.
//
// Every `interval` it writes the publication marks this server collected (PublicationTracker);
// then, if it holds the relay lease (one server at a time; a dead holder's work is taken over,
// see RelayLease), it republishes, oldest first, the events that are still unconfirmed `delay`
// after they were logged, and every `prune_interval` it prunes the log per the retention. The
// lease is given up on stop(). Failures are logged and tried again on the next round.
//
// Thread-safe: figures() and stop() from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include <Poco/Logger.h>

#include "events/event_log.h"
#include "events/publication_tracker.h"
#include "events/relay_lease.h"

namespace busbar::host {

struct RelayOptions {
  std::chrono::milliseconds interval{500};
  std::chrono::milliseconds delay{2000};  // how old an unconfirmed event is before it is relayed
  std::chrono::milliseconds lease_timeout{5000};
  std::chrono::milliseconds prune_interval{60000};
  Retention retention;
  size_t batch = 500;
};

class EventRelay {
 public:
  // Hands `logged` to the transport for every exchange it is routed to, its confirmations
  // reported to the tracker.
  using Republish = std::function<void(const LoggedEvent& logged)>;

  // `log`, `storage` and `tracker` must outlive the relay.
  EventRelay(EventLog& log, Connection& storage, PublicationTracker& tracker, Republish republish,
             std::string server_id, RelayOptions options, Poco::Logger& logger);
  ~EventRelay();  // stops

  void start();
  // Writes the last marks and gives the lease up.
  void stop() noexcept;

  struct Figures {
    bool holds_lease = false;
    std::string holder;        // the server holding the lease, as last seen
    uint64_t backlog = 0;      // unconfirmed events (counted by the lease holder)
    uint64_t republished = 0;  // events this server published again
    uint64_t pruned = 0;       // rows this server pruned
    uint64_t failures = 0;
    std::string last_error;
  };
  Figures figures() const;

 private:
  void run();
  void round(std::chrono::steady_clock::time_point now);
  void relay(std::chrono::steady_clock::time_point now);

  EventLog& log_;
  PublicationTracker& tracker_;
  const Republish republish_;
  const RelayOptions options_;
  Poco::Logger& logger_;
  RelayLease lease_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  Figures figures_;
  std::thread worker_;

  // Worker thread only.
  uint64_t confirmed_through_ = 0;  // every event up to here is known to be confirmed
  std::map<uint64_t, std::chrono::steady_clock::time_point> relayed_;  // seq -> when, in flight
  std::chrono::steady_clock::time_point last_prune_{};
};

}  // namespace busbar::host

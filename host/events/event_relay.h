// EventRelay: publishes again, from the event log, the logged events no broker confirmed (their
// server crashed before publishing, its publish queue overflowed, its broker blocked publishers),
// so that every logged event reaches the broker at least once. Runs on its own thread.
//
// Every `interval` it writes the publication marks this server collected (PublicationTracker);
// then, if it holds the relay lease (one server at a time; a dead holder's work is taken over,
// see RelayLease), it republishes, oldest first, the events their publisher gave up (its queue
// was full, it stopped) and those still unconfirmed `delay` after they were logged by the
// database's clock (their server may have died), and it prunes the log per the retention in its
// first round holding the lease, then every `prune_interval` (a process that lives shorter than
// the interval still prunes). (Events a writer left without a number are numbered by every server's
// EventNumberer, not by the lease holder alone.) At
// most `in_flight` republished events wait for their broker's answer at a time; one the
// transport drops (its queue is full) ends the round and is tried again on the next, after
// `busy_interval` when the transport took some this round and after growing pauses when it took
// none (the broker may be away); while a backlog remains the rounds follow each other at
// `busy_interval`. The lease is given up on
// stop(). Failures are logged and tried again on the next round.
//
// Thread-safe: figures() and stop() from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include <Poco/Logger.h>

#include "background_worker.h"
#include "events/event_log.h"
#include "events/publication_tracker.h"
#include "events/relay_lease.h"

namespace busbar::host {

struct RelayOptions {
  std::chrono::milliseconds interval{500};
  std::chrono::milliseconds busy_interval{20};
  // How old an unconfirmed event is before the relay takes it from its publisher (whose server
  // may have died with it); an event its publisher gave up is taken at once.
  std::chrono::milliseconds delay{10000};
  std::chrono::milliseconds lease_timeout{5000};
  std::chrono::milliseconds prune_interval{60000};
  LogRetention retention;
  size_t batch = 500;
  size_t in_flight = 1000;
};

class EventRelay {
 public:
  // Hands `logged` to the transport for every exchange it is routed to, its confirmations
  // reported to the tracker, and then to `settled` (once: true when every broker confirmed it).
  using Republish = std::function<void(const LoggedEvent2& logged, PublishSettled settled)>;

  // `log` and `tracker` must outlive the relay.
  EventRelay(EventLogStorage2& log, PublicationTracker& tracker, Republish republish,
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
  // One round; returns how long to wait before the next.
  std::chrono::milliseconds round(std::chrono::steady_clock::time_point now);
  // Republishes what waits; `log_now` is the database's clock (EventLogStorage::clock()).
  std::chrono::milliseconds relay(int64_t log_now);
  void settled(uint64_t seq, bool confirmed);

  EventLogStorage2& log_;
  PublicationTracker& tracker_;
  const Republish republish_;
  const RelayOptions options_;
  Poco::Logger& logger_;
  RelayLease lease_;

  Figures figures_;  // under worker_.mutex()

  // Republished events still waiting for their broker, and those confirmed since the last
  // flush of the marks (the log does not say so yet); under worker_.mutex().
  std::map<uint64_t, std::chrono::steady_clock::time_point> in_flight_;  // seq -> when sent
  std::set<uint64_t> confirmed_unmarked_;
  bool dropped_ = false;  // the transport dropped a republished event this round

  // Worker thread only.
  std::chrono::milliseconds full_queue_wait_{0};  // grows while the transport takes nothing
  std::optional<std::chrono::steady_clock::time_point> last_prune_;  // none since start

  BackgroundWorker worker_;
};

}  // namespace busbar::host

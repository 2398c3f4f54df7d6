#include "events/event_relay.h"

#include <algorithm>

namespace busbar::host {

using Clock = std::chrono::steady_clock;

// How long a republished event may wait for its settlement before it counts as lost.
constexpr std::chrono::seconds kSettlementOverdue{60};

EventRelay::EventRelay(EventLogStorage2& log, PublicationTracker& tracker, Republish republish,
                       std::string server_id, RelayOptions options, Poco::Logger& logger)
    : log_(log),
      tracker_(tracker),
      republish_(std::move(republish)),
      options_(options),
      logger_(logger),
      lease_(log, std::move(server_id), options.lease_timeout) {}

EventRelay::~EventRelay() { stop(); }

void EventRelay::start() {
  worker_.start("bb-relay", [this] { run(); });
}

void EventRelay::stop() noexcept {
  // Never started, or stopped already: no marks to write, no lease held.
  if (!worker_.running()) return;
  worker_.stop();
  try {
    tracker_.flush(log_);
  } catch (const std::exception& error) {
    logger_.warning(std::string("event relay: the last publication marks were not written (") +
                    error.what() + "); the relay may publish those events once more");
  }
  lease_.release();
}

EventRelay::Figures EventRelay::figures() const {
  std::lock_guard<std::mutex> lock(worker_.mutex());
  return figures_;
}

void EventRelay::run() {
  std::unique_lock<std::mutex> lock(worker_.mutex());
  while (!worker_.stopping()) {
    lock.unlock();
    std::string error;
    auto wait = options_.interval;
    try {
      wait = round(Clock::now());
    } catch (const std::exception& failure) {
      error = failure.what();
    }
    lock.lock();
    if (!error.empty()) {
      // One line per kind of failure in a row, not one per round.
      if (error != figures_.last_error) logger_.warning("event relay: " + error);
      ++figures_.failures;
      figures_.holds_lease = false;
    }
    figures_.last_error = error;
    worker_.waitFor(lock, wait);
  }
}

void EventRelay::settled(uint64_t seq, bool confirmed) {
  std::lock_guard<std::mutex> lock(worker_.mutex());
  in_flight_.erase(seq);
  if (confirmed) {
    confirmed_unmarked_.insert(seq);
  } else {
    dropped_ = true;
  }
}

std::chrono::milliseconds EventRelay::round(Clock::time_point now) {
  {
    // Those confirmed until now are in the tracker's marks, which the flush writes.
    std::lock_guard<std::mutex> lock(worker_.mutex());
    confirmed_unmarked_.clear();
    dropped_ = false;
  }
  tracker_.flush(log_);
  const bool holds = lease_.hold(now);
  {
    std::lock_guard<std::mutex> lock(worker_.mutex());
    if (holds != figures_.holds_lease) {
      logger_.information(holds ? "event relay: this server relays the event log now"
                                : "event relay: another server relays the event log now (" +
                                      lease_.lastSeenHolder() + ")");
    }
    figures_.holds_lease = holds;
    figures_.holder = lease_.lastSeenHolder();
  }
  if (!holds) return options_.interval;
  // Ages in the log are by the database's clock (logged_at), whatever this server's says.
  const int64_t log_now = log_.clock();
  const auto wait = relay(log_now);
  if ((!last_prune_ || now - *last_prune_ >= options_.prune_interval) && lease_.held()) {
    last_prune_ = now;
    // Fenced by the lease: a round that froze after the hold above and resumes after another
    // server took the lease, or after a restore, deletes nothing.
    uint64_t pruned = log_.prune2(options_.retention, log_now, *lease_.held());
    if (pruned > 0) {
      logger_.information("event relay: pruned " + std::to_string(pruned) +
                          " events from the event log");
    }
    std::lock_guard<std::mutex> lock(worker_.mutex());
    figures_.pruned += pruned;
  }
  return wait;
}

std::chrono::milliseconds EventRelay::relay(int64_t log_now) {
  const auto now = Clock::now();
  // Every round looks at the whole log: only its unconfirmed rows are read
  // (busbar_events_unpublished), so a restored database's rows, unconfirmed again, or a table
  // refilled a row at a time, are found wherever they are.
  const int64_t orphaned_before =
      log_now - std::chrono::duration_cast<std::chrono::microseconds>(options_.delay).count();
  auto events = log_.unpublished2(0, orphaned_before, options_.batch);
  {
    // A transport owes a settlement for each; one that never came (a transport that lost the
    // event without telling) must not keep the event from being sent again for ever.
    std::lock_guard<std::mutex> lock(worker_.mutex());
    for (auto it = in_flight_.begin(); it != in_flight_.end();) {
      it = now - it->second > kSettlementOverdue ? in_flight_.erase(it) : std::next(it);
    }
  }
  uint64_t republished = 0;
  uint64_t taken = 0;  // republished and not dropped at once by a full transport queue
  bool backlog = events.size() == options_.batch;
  for (const auto& logged : events) {
    {
      std::lock_guard<std::mutex> lock(worker_.mutex());
      if (dropped_) break;
      taken = republished;
      if (in_flight_.size() >= options_.in_flight) {
        backlog = true;  // go on as soon as the broker has answered some
        break;
      }
      if (in_flight_.count(logged.seq) != 0 || confirmed_unmarked_.count(logged.seq) != 0) {
        continue;
      }
      in_flight_.emplace(logged.seq, now);
    }
    const uint64_t seq = logged.seq;
    republish_(logged, [this, seq](bool confirmed) { settled(seq, confirmed); });
    ++republished;
  }
  if (republished > 0) {
    logger_.information("event relay: published " + std::to_string(republished) +
                        " unconfirmed events again from the event log, from seq " +
                        std::to_string(events.front().seq));
  }
  uint64_t backlog_count = log_.countUnpublished(0);
  std::lock_guard<std::mutex> lock(worker_.mutex());
  figures_.republished += republished;
  figures_.backlog = backlog_count;
  if (!dropped_) taken = republished;
  // The transport's queue was full: soon again if it took some (it drains at broker speed),
  // else back off, up to the interval (the broker may be away).
  if (dropped_) {
    full_queue_wait_ =
        taken > 0 ? options_.busy_interval
                  : std::clamp(full_queue_wait_ * 2, options_.busy_interval, options_.interval);
    return full_queue_wait_;
  }
  full_queue_wait_ = options_.busy_interval;
  return backlog ? options_.busy_interval : options_.interval;
}

}  // namespace busbar::host

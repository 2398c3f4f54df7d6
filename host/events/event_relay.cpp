#include "events/event_relay.h"

#include <Poco/Timestamp.h>

namespace busbar::host {

using Clock = std::chrono::steady_clock;

EventRelay::EventRelay(EventLog& log, Connection& storage, PublicationTracker& tracker,
                       Republish republish, std::string server_id, RelayOptions options,
                       Poco::Logger& logger)
    : log_(log),
      tracker_(tracker),
      republish_(std::move(republish)),
      options_(options),
      logger_(logger),
      lease_(storage, std::move(server_id), options.lease_timeout) {}

EventRelay::~EventRelay() { stop(); }

void EventRelay::start() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = false;
  }
  last_prune_ = Clock::now();
  worker_ = std::thread([this] { run(); });
}

void EventRelay::stop() noexcept {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && !worker_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (!worker_.joinable()) return;
  worker_.join();
  try {
    tracker_.flush(log_);
  } catch (const std::exception& error) {
    logger_.warning(std::string("event relay: the last publication marks were not written (") +
                    error.what() + "); the relay may publish those events once more");
  }
  lease_.release();
}

EventRelay::Figures EventRelay::figures() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return figures_;
}

void EventRelay::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    std::string error;
    try {
      round(Clock::now());
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
    wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
  }
}

void EventRelay::round(Clock::time_point now) {
  tracker_.flush(log_);
  bool holds;
  try {
    holds = lease_.hold(now);
  } catch (...) {
    relayed_.clear();
    throw;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (holds != figures_.holds_lease) {
      logger_.information(holds ? "event relay: this server relays the event log now"
                                : "event relay: another server relays the event log now (" +
                                      lease_.lastSeenHolder() + ")");
    }
    figures_.holds_lease = holds;
    figures_.holder = lease_.lastSeenHolder();
  }
  if (!holds) {
    relayed_.clear();
    return;
  }
  relay(now);
  if (now - last_prune_ >= options_.prune_interval) {
    last_prune_ = now;
    uint64_t pruned = log_.prune(options_.retention, Poco::Timestamp().epochMicroseconds());
    if (pruned > 0) {
      logger_.information("event relay: pruned " + std::to_string(pruned) +
                          " events from the event log");
    }
    std::lock_guard<std::mutex> lock(mutex_);
    figures_.pruned += pruned;
  }
}

void EventRelay::relay(Clock::time_point now) {
  const int64_t logged_before =
      Poco::Timestamp().epochMicroseconds() -
      std::chrono::duration_cast<std::chrono::microseconds>(options_.delay).count();
  auto events = log_.unpublished(confirmed_through_, logged_before, options_.batch);
  if (events.empty()) {
    // Everything logged before the delay is confirmed; nothing older needs looking at again.
    auto pending = log_.unpublished(confirmed_through_, INT64_MAX, 1);
    confirmed_through_ = pending.empty() ? log_.head().seq : pending.front().seq - 1;
  } else {
    confirmed_through_ = events.front().seq - 1;
  }
  relayed_.erase(relayed_.begin(), relayed_.upper_bound(confirmed_through_));
  uint64_t republished = 0;
  for (const auto& logged : events) {
    auto previous = relayed_.find(logged.seq);
    // One that was relayed already gets the delay again to be confirmed and marked.
    if (previous != relayed_.end() && now - previous->second < options_.delay) continue;
    republish_(logged);
    relayed_[logged.seq] = now;
    ++republished;
  }
  if (republished > 0) {
    logger_.information("event relay: published " + std::to_string(republished) +
                        " unconfirmed events again from the event log, from seq " +
                        std::to_string(events.front().seq));
  }
  uint64_t backlog = log_.countUnpublished(confirmed_through_);
  std::lock_guard<std::mutex> lock(mutex_);
  figures_.republished += republished;
  figures_.backlog = backlog;
}

}  // namespace busbar::host

#include "events/event_sequencer.h"

#include "ops/request_context.h"

#include <iterator>

namespace busbar::host {

EventSequencer::EventSequencer(Deliver deliver, GapFound gap_found, SequencerOptions options,
                               Poco::Logger& logger, SetAside set_aside)
    : deliver_(std::move(deliver)),
      gap_found_(std::move(gap_found)),
      set_aside_(std::move(set_aside)),
      options_(options),
      logger_(logger) {
  worker_.start("bb-sequencer", [this] { run(); });
}

EventSequencer::~EventSequencer() { close(); }

void EventSequencer::offer(uint64_t seq, Event event, EventSource source, std::string request_id,
                           std::string principal) {
  bool report_gap = false;
  {
    std::lock_guard<std::mutex> lock(worker_.mutex());
    if (closed_) return;
    if (seq <= applied_.seq || waiting_.count(seq) != 0) {
      ++counters_.duplicates;
      return;
    }
    if (waiting_.size() >= options_.max_waiting && seq > waiting_.rbegin()->first) {
      // The log has it; the follower reads it once the events before it are in.
      ++counters_.overflowed;
      report_gap = true;
    } else {
      if (waiting_.size() >= options_.max_waiting) {
        // The lowest numbers are needed first: the highest one makes room.
        waiting_.erase(std::prev(waiting_.end()));
        ++counters_.overflowed;
      }
      waiting_.emplace(
          seq, Waiting{std::move(event), source, std::move(request_id), std::move(principal)});
      if (readyLocked()) worker_.wake();
      report_gap = newGapLocked();
    }
  }
  if (report_gap) gap_found_();
}

void EventSequencer::close() {
  {
    std::lock_guard<std::mutex> lock(worker_.mutex());
    closed_ = true;
    waiting_.clear();
  }
  worker_.stop();
  // A hold or a waitForProgress() waiting for the delivery that ended there.
  idle_.notify_all();
}

void EventSequencer::run() {
  std::unique_lock<std::mutex> lock(worker_.mutex());
  while (!worker_.stopping() && !closed_) {
    worker_.waitUntil(lock, BackgroundWorker::Clock::time_point::max(),
                      [this] { return readyLocked(); });
    if (worker_.stopping() || closed_) break;
    state_ = State::kDelivering;
    deliverReady(lock);
    // Still delivering while the gap it stopped at is reported, so that waitUntilSettled()
    // returns with the report made.
    if (newGapLocked()) {
      lock.unlock();
      gap_found_();
      lock.lock();
    }
    state_ = State::kIdle;
    idle_.notify_all();
  }
}

bool EventSequencer::readyLocked() const {
  return state_ == State::kIdle && !hold_wanted_ && !closed_ && !waiting_.empty() &&
         waiting_.begin()->first == applied_.seq + 1;
}

bool EventSequencer::hasGapLocked() const {
  return !waiting_.empty() && waiting_.begin()->first > applied_.seq + 1;
}

bool EventSequencer::newGapLocked() {
  // Each gap once, when it is found: when events arrive beyond it, and when the delivery of what
  // filled the one before stops at it.
  if (state_ == State::kHeld || !hasGapLocked() || applied_.seq + 1 == reported_gap_) return false;
  reported_gap_ = applied_.seq + 1;
  ++counters_.gaps;
  return true;
}

void EventSequencer::deliverReady(std::unique_lock<std::mutex>& lock) {
  while (!hold_wanted_ && !closed_ && !waiting_.empty() &&
         waiting_.begin()->first == applied_.seq + 1) {
    auto node = waiting_.extract(waiting_.begin());
    const uint64_t seq = node.key();
    Waiting next = std::move(node.mapped());
    // Applied as soon as it is taken: an offer of the same seq meanwhile is a duplicate.
    applied_ = LogPosition{seq, next.event.id};
    idle_.notify_all();  // a waitForProgress() for this seq
    lock.unlock();
    deliverOrSetAside(seq, next);
    lock.lock();
    ++counters_.delivered;
    if (next.source == EventSource::kLog) ++counters_.from_log;
  }
}

void EventSequencer::deliverOrSetAside(uint64_t seq, const Waiting& next) {
  const Event& event = next.event;
  RequestScope scope(next.request_id, next.principal);
  std::string error;
  try {
    deliver_(event, next.source);
    return;
  } catch (const std::exception& failure) {
    error = failure.what();
  } catch (...) {
    // A plugin may throw anything; on this thread it must not end the process.
    error = "an exception that is not a std::exception";
  }
  logger_.error("event " + std::to_string(seq) + " (" + event.type + " " + event.id +
                ") failed in its subscribers and is parked; GET /admin/events/parked lists "
                "it, POST /admin/events/parked/replay delivers it again: " +
                error);
  {
    std::lock_guard<std::mutex> lock(worker_.mutex());
    ++counters_.set_aside;
  }
  if (set_aside_) set_aside_(LoggedEvent2{seq, event, next.request_id, next.principal}, error);
}

EventSequencer::State EventSequencer::hold() {
  std::unique_lock<std::mutex> lock(worker_.mutex());
  hold_wanted_ = true;
  idle_.wait(lock, [this] { return state_ != State::kDelivering; });
  const State before = state_;
  state_ = State::kHeld;
  hold_wanted_ = false;
  idle_.notify_all();  // nothing can be delivered now: a waitUntilSettled() returns
  return before;
}

void EventSequencer::resume(State state) {
  bool report_gap;
  {
    std::lock_guard<std::mutex> lock(worker_.mutex());
    state_ = state;
    if (readyLocked()) worker_.wake();
    report_gap = newGapLocked();
    idle_.notify_all();
  }
  if (report_gap) gap_found_();
}

void EventSequencer::exclusive(const std::function<void()>& work) {
  std::lock_guard<std::mutex> one_holder(holder_);
  const State before = hold();
  try {
    work();
  } catch (...) {
    resume(before);
    throw;
  }
  resume(before);
}

void EventSequencer::resynchronize(const std::function<LogPosition()>& reload) {
  std::lock_guard<std::mutex> one_holder(holder_);
  const State before = hold();
  LogPosition reflected;
  try {
    reflected = reload();
  } catch (...) {
    resume(before);
    throw;
  }
  bool report_gap;
  {
    std::lock_guard<std::mutex> lock(worker_.mutex());
    applied_ = reflected;
    // All of them: after a restored database some may come from the log's old history. Those
    // the log holds are read again by the next catch-up.
    waiting_.clear();
    // The position may have gone back (a restored database): a gap there is a new one.
    reported_gap_ = 0;
    state_ = State::kIdle;
    report_gap = newGapLocked();
    idle_.notify_all();
  }
  if (report_gap) gap_found_();
}

bool EventSequencer::waitForProgress(uint64_t seq, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(worker_.mutex());
  return idle_.wait_for(lock, timeout, [this, seq] {
    return applied_.seq >= seq || closed_ || (state_ != State::kDelivering && !readyLocked());
  });
}

void EventSequencer::waitUntilSettled() {
  std::unique_lock<std::mutex> lock(worker_.mutex());
  idle_.wait(lock, [this] { return closed_ || (state_ != State::kDelivering && !readyLocked()); });
}

LogPosition EventSequencer::applied() const {
  std::lock_guard<std::mutex> lock(worker_.mutex());
  return applied_;
}

std::optional<SeqRange> EventSequencer::gap() const {
  std::lock_guard<std::mutex> lock(worker_.mutex());
  if (!hasGapLocked()) return std::nullopt;
  return SeqRange{applied_.seq + 1, waiting_.begin()->first - 1};
}

EventSequencer::Counters EventSequencer::counters() const {
  std::lock_guard<std::mutex> lock(worker_.mutex());
  Counters counters = counters_;
  counters.waiting = waiting_.size();
  return counters;
}

}  // namespace busbar::host

#include "events/event_numberer.h"

#include <algorithm>

#include "events/outbox_connection.h"

namespace busbar::host {

EventNumberer::EventNumberer(EventLogStorage& log, CommittedEvents& sink, Poco::Logger& logger,
                             size_t capacity, std::chrono::milliseconds sweep_interval)
    : log_(log),
      sink_(sink),
      logger_(logger),
      capacity_(capacity),
      sweep_interval_(sweep_interval) {}

EventNumberer::~EventNumberer() { stop(); }

void EventNumberer::start() {
  worker_.start("bb-numberer", [this] { run(); });
}

// run() numbers what is queued once more before it returns.
void EventNumberer::stop() noexcept { worker_.stop(); }

void EventNumberer::submit(std::vector<LoggedEvent2> events) {
  {
    std::lock_guard<std::mutex> lock(worker_.mutex());
    if (queue_.size() + events.size() > capacity_) {
      left_to_the_log_ += events.size();
      return;
    }
    for (auto& event : events) queue_.push_back(std::move(event));
  }
  worker_.wake();
}

uint64_t EventNumberer::rounds() const {
  std::lock_guard<std::mutex> lock(worker_.mutex());
  return rounds_;
}

uint64_t EventNumberer::leftToTheLog() const {
  std::lock_guard<std::mutex> lock(worker_.mutex());
  return left_to_the_log_;
}

void EventNumberer::run() {
  auto pause = std::chrono::milliseconds(50);
  std::vector<LoggedEvent2> events;
  bool more = false;  // the last round numbered a whole batch: the next one follows at once
  std::unique_lock<std::mutex> lock(worker_.mutex());
  for (;;) {
    bool sweep = false;
    if (!more) {
      sweep = !worker_.waitFor(lock, sweep_interval_,
                               [this, &events] { return !queue_.empty() || !events.empty(); });
    }
    for (auto& event : queue_) events.push_back(std::move(event));
    queue_.clear();
    const bool last = worker_.stopping();
    lock.unlock();
    const bool drain = more;
    more = false;
    if (!events.empty() || drain || (sweep && logHasUnnumbered())) {
      switch (round(events)) {
        case RoundOutcome::kDone:
          pause = std::chrono::milliseconds(50);
          break;
        case RoundOutcome::kMore:
          pause = std::chrono::milliseconds(50);
          more = !last;
          break;
        case RoundOutcome::kFailed:
          if (!last) {
            std::this_thread::sleep_for(pause);
            pause = std::min(pause * 2, std::chrono::milliseconds(1000));
          }
          break;
      }
    }
    lock.lock();
    if (last) return;  // what failed its last round is numbered by any server's next one
  }
}

bool EventNumberer::logHasUnnumbered() {
  try {
    return log_.hasUnnumbered(sweep_interval_);
  } catch (const std::exception&) {
    return false;  // the database is away: the next sweep looks again
  }
}

EventNumberer::RoundOutcome EventNumberer::round(std::vector<LoggedEvent2>& events) {
  EventLogStorage::NumberingResult numbering;
  try {
    numbering = log_.numberOldest();
  } catch (const std::exception& error) {
    logger_.warning("numbering committed events failed (" + std::string(error.what()) +
                    "); trying again");
    return RoundOutcome::kFailed;
  }
  std::vector<LoggedEvent2> numbered;
  std::vector<LoggedEvent2> waiting;
  for (auto& logged : events) {
    auto found = numbering.numbers.find(logged.event.id);
    if (found == numbering.numbers.end()) {
      waiting.push_back(std::move(logged));
      continue;
    }
    logged.seq = found->second;
    numbered.push_back(std::move(logged));
  }
  events.clear();
  if (!waiting.empty() && !numbering.more) {
    // This round numbered every event that waited when it began, and these had committed by
    // then: another server's numbering gave them their numbers.
    std::vector<std::string> ids;
    ids.reserve(waiting.size());
    for (const auto& logged : waiting) ids.push_back(logged.event.id);
    EventLogStorage::Numbers elsewhere;
    try {
      elsewhere = log_.numbersOf(ids);
    } catch (const std::exception& error) {
      logger_.warning("reading the numbers of " + std::to_string(ids.size()) +
                      " committed events failed (" + error.what() + "); trying again");
      events = std::move(waiting);
      publish(std::move(numbered));
      return RoundOutcome::kFailed;
    }
    for (auto& logged : waiting) {
      auto found = elsewhere.find(logged.event.id);
      // One without a number was numbered and pruned meanwhile: the log had it.
      if (found == elsewhere.end()) continue;
      logged.seq = found->second;
      numbered.push_back(std::move(logged));
    }
    waiting.clear();
  }
  events = std::move(waiting);
  const bool worked = !numbering.numbers.empty() || !numbered.empty();
  publish(std::move(numbered));
  if (worked) {
    std::lock_guard<std::mutex> lock(worker_.mutex());
    ++rounds_;
  }
  return numbering.more ? RoundOutcome::kMore : RoundOutcome::kDone;
}

void EventNumberer::publish(std::vector<LoggedEvent2> numbered) {
  if (numbered.empty()) return;
  std::sort(numbered.begin(), numbered.end(),
            [](const LoggedEvent2& a, const LoggedEvent2& b) { return a.seq < b.seq; });
  sink_.publishCommitted(std::move(numbered));
}

}  // namespace busbar::host

#include "events/event_numberer.h"

#include <algorithm>

#include "events/outbox_connection.h"

namespace busbar::host {

EventNumberer::EventNumberer(EventLog& log, CommittedEvents& sink, Poco::Logger& logger,
                             size_t capacity)
    : log_(log), sink_(sink), logger_(logger), capacity_(capacity) {}

EventNumberer::~EventNumberer() { stop(); }

void EventNumberer::start() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = false;
  }
  worker_ = std::thread([this] { run(); });
}

void EventNumberer::stop() noexcept {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  queued_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void EventNumberer::submit(std::vector<LoggedEvent> events) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queue_.size() + events.size() > capacity_) {
      left_to_the_log_ += events.size();
      return;
    }
    for (auto& event : events) queue_.push_back(std::move(event));
  }
  queued_.notify_one();
}

uint64_t EventNumberer::rounds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return rounds_;
}

uint64_t EventNumberer::leftToTheLog() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return left_to_the_log_;
}

void EventNumberer::run() {
  auto pause = std::chrono::milliseconds(50);
  std::vector<LoggedEvent> events;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    queued_.wait(lock, [this, &events] { return stopping_ || !queue_.empty() || !events.empty(); });
    for (auto& event : queue_) events.push_back(std::move(event));
    queue_.clear();
    const bool last = stopping_;
    lock.unlock();
    if (!events.empty()) {
      if (round(events)) {
        pause = std::chrono::milliseconds(50);
      } else if (!last) {
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(1000));
      }
    }
    lock.lock();
    if (last) return;  // what failed its last round is left to the relay
  }
}

bool EventNumberer::round(std::vector<LoggedEvent>& events) {
  std::vector<std::string> ids;
  ids.reserve(events.size());
  for (const auto& logged : events) ids.push_back(logged.event.id);
  EventLog::Numbers numbers;
  try {
    numbers = log_.numberAfterCommit(ids);
  } catch (const std::exception& error) {
    logger_.warning("numbering " + std::to_string(events.size()) + " committed events failed (" +
                    error.what() + "); trying again");
    return false;
  }
  std::vector<LoggedEvent> numbered;
  numbered.reserve(events.size());
  for (auto& logged : events) {
    auto found = numbers.find(logged.event.id);
    // One without a number was numbered and pruned meanwhile, or is beyond a round's batch: the
    // log has it either way.
    if (found == numbers.end()) continue;
    logged.seq = found->second;
    numbered.push_back(std::move(logged));
  }
  events.clear();
  std::sort(numbered.begin(), numbered.end(),
            [](const LoggedEvent& a, const LoggedEvent& b) { return a.seq < b.seq; });
  if (!numbered.empty()) sink_.publishCommitted(std::move(numbered));
  std::lock_guard<std::mutex> lock(mutex_);
  ++rounds_;
  return true;
}

}  // namespace busbar::host

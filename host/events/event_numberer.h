// EventNumberer: numbers committed events on its own thread and hands them on, so that a write
// waits for its own commit only.
//
// On MariaDB and PostgreSQL a transaction's events are committed without numbers (EventLog).
// submit() queues them and returns at once; the worker takes everything queued, numbers it in
// one numbering transaction (one serves every write that committed while the previous ran, so
// numbering costs one flush to disk per round, not per write), and hands the numbered events to
// the CommittedEvents sink, in order. A round that fails (the database went away) is tried again
// with growing pauses; past `capacity` events waiting, new ones are left to the log (the relay
// numbers and publishes them, every server reads them). stop() runs a last round for what is
// queued. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include <Poco/Logger.h>

#include "busbar/event.h"
#include "events/event_log.h"

namespace busbar::host {

class CommittedEvents;

class EventNumberer {
 public:
  // `log` and `sink` must outlive the numberer.
  EventNumberer(EventLog& log, CommittedEvents& sink, Poco::Logger& logger,
                size_t capacity = 100000);
  ~EventNumberer();  // stops

  void start();
  // Numbers and hands on what is queued (one round, not retried), then stops. Idempotent.
  void stop() noexcept;

  // Queues committed events for numbering; never waits on the database.
  void submit(std::vector<LoggedEvent> events);

  // Rounds that numbered something, and events left to the log because the queue was full.
  uint64_t rounds() const;
  uint64_t leftToTheLog() const;

 private:
  void run();
  // One round over `events`; false when the database failed (they stay for the next round).
  bool round(std::vector<LoggedEvent>& events);

  EventLog& log_;
  CommittedEvents& sink_;
  Poco::Logger& logger_;
  const size_t capacity_;

  mutable std::mutex mutex_;
  std::condition_variable queued_;
  std::vector<LoggedEvent> queue_;
  bool stopping_ = false;
  uint64_t rounds_ = 0;
  uint64_t left_to_the_log_ = 0;
  std::thread worker_;
};

}  // namespace busbar::host

// EventNumberer: numbers committed events on its own thread and hands them on, so that a write
// waits for its own commit only.
//
// Where the log numbers after the commit (EventLogStorage::Numbering::kAfterCommit: MariaDB,
// PostgreSQL) a transaction's events are committed without numbers.
// submit() queues them and returns at once; the worker takes everything queued and runs a
// numbering round: one numbering transaction numbers the oldest waiting events of the log,
// whoever wrote them (one serves every write that committed while the previous ran, so numbering
// costs one flush to disk per round, not per write). It then hands this server's submitted events
// to the CommittedEvents sink, each batch in number order, with the numbers this round or another
// server's gave them; an event numbered between its writer's commit and submit goes out in a
// later batch, after higher numbers (the sequencers deliver in number order); another server's
// events go out with their own server, or reach every server from the log. A
// round that fails (the database went away) is tried again with growing pauses. While the log
// holds more than a batch of waiting events the rounds follow each other at once. Every
// `sweep_interval` without a round it looks for events left without a number for
// `sweep_interval` or longer (a writer numbers its own sooner: these are a frozen or dead
// writer's), and numbers them: every server does, so none of them waits for one server. Past
// `capacity` events queued, new ones are left to the log (a sweep numbers them, every server
// reads them). stop() runs a last round for what is queued. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include <Poco/Logger.h>

#include "background_worker.h"
#include "busbar/event.h"
#include "events/event_log.h"

namespace busbar::host {

class CommittedEvents;

class EventNumberer {
 public:
  // `log` and `sink` must outlive the numberer.
  EventNumberer(EventLogStorage& log, CommittedEvents& sink, Poco::Logger& logger,
                size_t capacity = 100000,
                std::chrono::milliseconds sweep_interval = std::chrono::milliseconds(250));
  ~EventNumberer();  // stops

  void start();
  // Numbers and hands on what is queued (one round, not retried), then stops. Idempotent.
  void stop() noexcept;

  // Queues committed events for numbering; never waits on the database.
  void submit(std::vector<LoggedEvent2> events);

  // Rounds that numbered or handed on something, and events left to the log because the queue
  // was full.
  uint64_t rounds() const;
  uint64_t leftToTheLog() const;

 private:
  enum class RoundOutcome {
    kDone,    // every event of `events` was handed on
    kMore,    // a whole batch was numbered: more wait in the log, `events` may keep some
    kFailed,  // the database failed: `events` stay for the next round
  };

  void run();
  // One numbering round, then hands on what of `events` has a number now.
  RoundOutcome round(std::vector<LoggedEvent2>& events);
  // True when the log holds events without a number; false when it cannot tell.
  bool logHasUnnumbered();
  // Hands `numbered` to the sink in seq order (nothing when empty).
  void publish(std::vector<LoggedEvent2> numbered);

  EventLogStorage& log_;
  CommittedEvents& sink_;
  Poco::Logger& logger_;
  const size_t capacity_;
  const std::chrono::milliseconds sweep_interval_;

  // Under worker_.mutex().
  std::vector<LoggedEvent2> queue_;
  uint64_t rounds_ = 0;
  uint64_t left_to_the_log_ = 0;
  BackgroundWorker worker_;
};

}  // namespace busbar::host

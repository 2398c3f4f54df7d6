// DeliveryQueue: since SDK 1.4, the queue and thread between an in-process transport's publish()
// and the host's inline bus. publish() must not block and a broker hands events back on a thread
// of its own, so a transport that keeps events in this process queues each one here and one
// thread delivers them to the InboundSink in the order they were queued, after the request that
// dispatched them has returned.
//
// Bounded: a full queue drops the event, counts and logs it, settles it unconfirmed (a logged
// event is published again from the event log by the host's relay) and, for an event without a
// log sequence, asks the subscribers to resynchronize. A subscriber's failure, whatever it
// throws, is logged and never ends the thread or the process.
//
// Thread-safety: push() from any thread; start() and stop() from one thread (the plugin's
// start() and stop()). Header-only: it is compiled into the plugin.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include <Poco/Logger.h>

#include "busbar/event.h"
#include "busbar/transport.h"

namespace busbar {

class DeliveryQueue {
 public:
  // What was published: to `exchange`, and for a logged event (at.seq > 0) where it sits in the
  // log and whom to tell once it is delivered or dropped.
  struct Published {
    std::string exchange;
    Event event;
    EventLogSeq at;
    PublishSettled settled;
  };

  // Runs on the delivery thread before each event is delivered (a transport that also writes the
  // event somewhere does it here); what it throws is logged and the event is delivered anyway.
  using BeforeDelivery = std::function<void(const Published&)>;

  // `name` names the transport in log lines; `capacity` (> 0) bounds the events waiting.
  DeliveryQueue(InboundSink& sink, Poco::Logger& logger, std::string name, size_t capacity,
                BeforeDelivery before_delivery = {})
      : sink_(sink),
        logger_(logger),
        name_(std::move(name)),
        capacity_(capacity),
        before_delivery_(std::move(before_delivery)) {}

  DeliveryQueue(const DeliveryQueue&) = delete;
  DeliveryQueue& operator=(const DeliveryQueue&) = delete;
  ~DeliveryQueue() { stop(); }

  // On success the event waits for the delivery thread. When the queue is full it is dropped as
  // the class comment says; after stop() it is dropped and settled unconfirmed. Never blocks on
  // delivery, never throws. Since SDK 1.6, `principal` (who caused the event, "" for nobody)
  // reaches the sink with it (InboundSink::deliverAttributed and deliverSequencedAttributed).
  void push(Published published, std::string principal = {}) {
    std::string dropped;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!stopping_ && queue_.size() < capacity_) {
        queue_.push_back(Queued{std::move(published), std::move(principal)});
        ready_.notify_one();
        return;
      }
      if (!stopping_) {
        ++dropped_;
        dropped = name_ + " transport queue full (" + std::to_string(capacity_) + "): dropped " +
                  published.event.type + " " + published.event.id + " (" +
                  std::to_string(dropped_) + " so far); " +
                  (published.settled ? "the relay hands it over again from the event log"
                                     : "subscribers resync");
        resync_ = resync_ || !published.settled;
        ready_.notify_one();
      }
    }
    if (!dropped.empty())
      guarded("logging a dropped event", nullptr, [&] { logger_.warning(dropped); });
    if (published.settled) {
      guarded("settling", &published, [&] { published.settled(false); });
    }
  }

  // Starts the delivery thread. Call once, before stop().
  void start() {
    worker_ = std::thread([this] { run(); });
  }

  // Delivers what is queued, then ends the delivery thread: the sink and the hook must outlive
  // it (an owner whose hook uses its own members declares the queue after them, or calls stop()
  // in its destructor). Idempotent; never throws. Called on the delivery thread (from a
  // subscriber), it returns at once and the thread ends once the queue is drained.
  void stop() noexcept {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_one();
    if (worker_.joinable() && worker_.get_id() != std::this_thread::get_id()) worker_.join();
  }

  // Events dropped so far because the queue was full.
  uint64_t dropped() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return dropped_;
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      ready_.wait(lock, [this] { return stopping_ || resync_ || !queue_.empty(); });
      if (resync_) {
        resync_ = false;
        lock.unlock();
        guarded("asking the subscribers to resync", nullptr, [&] { sink_.reconnected(); });
        lock.lock();
        continue;
      }
      if (queue_.empty()) return;  // stopping and drained
      Queued queued = std::move(queue_.front());
      queue_.pop_front();
      Published& next = queued.published;
      lock.unlock();
      if (before_delivery_) {
        guarded("writing", &next, [&] { before_delivery_(next); });
      }
      guarded("a subscriber failed on", &next, [&] {
        if (next.at.seq > 0) {
          sink_.deliverSequencedAttributed(next.event, next.at, queued.principal);
        } else {
          sink_.deliverAttributed(next.event, queued.principal);
        }
      });
      if (next.settled) guarded("settling", &next, [&] { next.settled(true); });
      lock.lock();
    }
  }

  // Runs `step`; logs what it throws, whatever its type, as
  // "<name> transport: <what> [<type> <id>]: <error>". The text is only made on failure.
  template <typename Step>
  void guarded(const char* what, const Published* about, Step step) noexcept {
    try {
      std::string error;
      try {
        step();
        return;
      } catch (const std::exception& thrown) {
        error = thrown.what();
      } catch (...) {
        error = "an exception that is not a std::exception";
      }
      logger_.error(name_ + " transport: " + what +
                    (about ? " " + about->event.type + " " + about->event.id : "") + ": " + error);
    } catch (...) {
      // The logger itself failed (out of memory): the step still counts as done.
    }
  }

  InboundSink& sink_;
  Poco::Logger& logger_;
  const std::string name_;
  const size_t capacity_;
  const BeforeDelivery before_delivery_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  struct Queued {
    Published published;
    std::string principal;
  };
  std::deque<Queued> queue_;
  bool stopping_ = false;
  bool resync_ = false;
  uint64_t dropped_ = 0;
  std::thread worker_;
};

}  // namespace busbar

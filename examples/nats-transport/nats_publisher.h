// NatsPublisher: takes events from any thread and publishes them to JetStream from its own
// thread, each confirmed by the stream's publish ack.
//
// enqueue() only touches a bounded in-memory queue, so HTTP threads never wait on the network.
// The worker publishes the queue's head and waits for JetStream's ack (the broker's confirm: the
// stream stored it); until the ack comes it publishes it again with backoff (a lost link, a
// server restart), with the event id as Nats-Msg-Id so that the stream stores a repeat once. A
// message that carries a `settled` callback (a logged event) is told once whether JetStream
// stored it: false when the queue was full or stop() gave up, and the host's relay publishes it
// again from the event log. A dropped message without one calls `on_events_lost`, so that
// subscribers resynchronize. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <Poco/Logger.h>
#include <busbar/transport.h>

#include "nats_link.h"
#include "stop_signal.h"

namespace nats_transport {

struct OutgoingMessage {
  std::string exchange;
  std::string subject;
  std::string message_id;  // the event id: JetStream's de-duplication key
  std::string type;        // for logs
  std::string body;
  busbar::PublishSettled settled;  // empty for an unlogged event
};

class NatsPublisher {
 public:
  NatsPublisher(NatsLink& link, size_t capacity, Poco::Logger& logger,
                std::function<void()> on_events_lost);
  ~NatsPublisher();  // stops

  // Queues `message`; false when it was dropped (queue full or stopped; `settled(false)` ran).
  bool enqueue(OutgoingMessage message);

  // Starts the worker.
  void start();

  // Publishes what is queued for up to `flush` while the link is up, then gives up the rest
  // (settled(false)) and joins the worker. Idempotent.
  void stop(std::chrono::milliseconds flush) noexcept;

  uint64_t published() const { return published_.load(); }
  uint64_t confirmed() const { return confirmed_.load(); }
  uint64_t dropped() const { return dropped_.load(); }
  size_t queued() const;

 private:
  void run();
  // Publishes `message` and waits for its ack; true when JetStream stored it.
  bool publishOnce(const OutgoingMessage& message, std::string& error);
  void giveUp(std::deque<OutgoingMessage>& messages, const char* why);

  NatsLink& link_;
  const size_t capacity_;
  Poco::Logger& logger_;
  const std::function<void()> on_events_lost_;

  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<OutgoingMessage> queue_;
  bool stopping_ = false;
  bool events_lost_ = false;
  std::chrono::steady_clock::time_point flush_deadline_;
  std::thread worker_;

  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> confirmed_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace nats_transport

// AmqpPublisher: takes messages from any thread and publishes them from its own thread and
// connection, with publisher confirms.
//
// enqueue() only touches an in-memory bounded queue and wakes the worker, so HTTP threads never
// wait on the network and a new message never waits for earlier confirms. The worker publishes up
// to `confirm_window` messages ahead of the broker's confirms, and puts back at the head of the
// queue what was not confirmed when the link broke (or was nacked), so every accepted message is
// published at least once unless the queue overflows or stop() gives up. A message that carries a
// `settled` callback is told once whether the broker confirmed it (a logged event: the host's relay
// publishes it again when not). When the queue is full the message is dropped, counted and logged;
// for a dropped message without a callback, once the queue has drained on a live link,
// `on_events_lost` runs so that subscribers resynchronize. Thread-safe: enqueue, counters, start
// and stop may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Logger.h>

#include "amqp_connection.h"
#include "backoff.h"
#include "connection_settings.h"
#include "outgoing_message.h"
#include "stop_signal.h"
#include "wakeup.h"

namespace busbar::amqp {

struct PublisherOptions {
  ConnectionSettings connection;
  std::string connection_name = "busbar publisher";
  std::vector<std::string> exchanges;  // declared on every connect when declare_exchanges
  bool declare_exchanges = true;
  size_t queue_capacity = 10000;
  size_t confirm_window = 256;
  std::chrono::milliseconds flush_timeout{5000};  // how long stop() keeps publishing
  std::chrono::milliseconds reconnect_initial{100};
  std::chrono::milliseconds reconnect_cap{5000};
};

class AmqpPublisher {
 public:
  AmqpPublisher(PublisherOptions options, Poco::Logger& logger,
                std::function<void()> on_events_lost);
  ~AmqpPublisher();  // stops

  // Queues `message` for publishing; returns false when it was dropped (queue full or stopped).
  bool enqueue(OutgoingMessage message);

  // Starts the worker thread; it connects in the background.
  void start();

  // Publishes what is queued for up to flush_timeout, then closes. Idempotent.
  void stop() noexcept;

  uint64_t dropped() const { return dropped_.load(); }
  uint64_t confirmed() const { return confirmed_.load(); }
  uint64_t published() const { return published_.load(); }
  uint64_t nacked() const { return nacked_.load(); }
  uint64_t reconnects() const { return reconnects_.load(); }
  // Messages waiting to be published now.
  size_t queued() const;

  // True while the publisher's connection is up.
  bool connected() const { return connected_.load(); }
  // The index in ConnectionSettings::brokers of the node it is (or was last) connected to.
  size_t brokerIndex() const { return broker_index_.load(); }
  // Why the last connection attempt or link failed; "" while connected.
  std::string lastError() const;

 private:
  void run();
  std::unique_ptr<AmqpConnection> connect();
  // Publishes and reads confirms until the link fails (throws AmqpError) or stop() is done.
  void pump(AmqpConnection& connection);
  // Reads the frames that have arrived; when there are none and `wait` is not zero, first waits
  // up to `wait` for the broker or for a message to send.
  void readFrames(AmqpConnection& connection, std::chrono::milliseconds wait);
  // Waits up to `wait` for the broker's socket or a new message (or stop()); true when the socket
  // is readable, false at once when a queued message can be sent.
  bool waitForBrokerOrWork(AmqpConnection& connection, std::chrono::milliseconds wait);
  void settle(uint64_t delivery_tag, bool multiple, bool acked);
  // Logs the nacks counted since the last such line.
  void logNacks(std::chrono::steady_clock::time_point now);
  // True while sending waits after a nack.
  bool resendPaused() const { return std::chrono::steady_clock::now() < resend_after_; }
  void requeueUnconfirmed();
  bool flushDeadlinePassed() const;
  void countDropped(const OutgoingMessage& message, const char* why);

  const PublisherOptions options_;
  Poco::Logger& logger_;
  const std::function<void()> on_events_lost_;

  mutable std::mutex mutex_;
  std::deque<OutgoingMessage> queue_;
  Wakeup wakeup_;                 // raised by enqueue() and stop() while the worker polls
  bool wake_on_enqueue_ = false;  // the worker polls and could send a new message at once
  bool stopping_ = false;
  bool events_lost_ = false;
  std::chrono::steady_clock::time_point flush_deadline_;
  StopSignal stop_signal_;
  std::thread worker_;

  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> confirmed_{0};
  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> nacked_{0};
  std::atomic<uint64_t> reconnects_{0};
  std::atomic<bool> connected_{false};
  std::atomic<size_t> broker_index_{0};
  std::string last_error_;  // under mutex_

  // Worker thread only.
  std::map<uint64_t, OutgoingMessage> unconfirmed_;  // by delivery tag
  std::map<uint64_t, OutgoingMessage>
      nacked_messages_;  // by delivery tag, sent again after the pause
  uint64_t next_delivery_tag_ = 1;
  // After a nack, nothing is sent before resend_after_; the pause doubles with each round that is
  // nacked again, and starts over once nacks have stopped for a while.
  Backoff nack_backoff_{std::chrono::milliseconds(50), std::chrono::milliseconds(2000)};
  std::chrono::steady_clock::time_point resend_after_;
  std::chrono::steady_clock::time_point last_nack_at_;
  std::chrono::steady_clock::time_point last_nack_logged_;
  uint64_t nacks_not_logged_ = 0;
  size_t next_broker_ = 0;  // the node the next connection tries first
};

}  // namespace busbar::amqp

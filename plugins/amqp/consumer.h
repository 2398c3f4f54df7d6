// AmqpConsumer: consumes the exchanges this server listens to and delivers their events to the
// inline bus, on its own thread and connection.
//
// Each delivery is decoded, handed to InboundSink::deliver (deliverSequenced for a logged event),
// with the principal of its envelope, and acknowledged once every local subscriber ran. A delivery
// whose subscribers fail is retried `retries` times with backoff, then published with the error in
// its headers to the dead-letter exchange <exchange>.dead and acknowledged; a body that is not a
// valid envelope goes there at once. A lost link is reconnected with capped exponential backoff (to
// the next node of a cluster first), the topology declared again, and then
// InboundSink::reconnected() fires, because an exclusive queue misses what was published while it
// did not exist. Thread-safe: start, stop and requestResync may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Logger.h>
#include <amqp.h>

#include "amqp_connection.h"
#include "busbar/plugin.h"
#include "busbar/transport.h"
#include "connection_settings.h"
#include "dead_letter_publisher.h"
#include "envelope.h"
#include "stop_signal.h"

namespace busbar::amqp {

struct ConsumerOptions {
  ConnectionSettings connection;
  std::string server_id;  // names the connection and signs dead letters
  std::vector<ConsumedExchange> consumed;
  bool declare_exchanges = true;  // exchanges and dead-letter topology, on every connect
  int retries = 3;
  uint16_t prefetch = 200;
  std::chrono::milliseconds retry_initial{100};
  std::chrono::milliseconds reconnect_initial{100};
  std::chrono::milliseconds reconnect_cap{5000};
  EnvelopeLimits limits;
};

class AmqpConsumer {
 public:
  AmqpConsumer(ConsumerOptions options, InboundSink& sink, Poco::Logger& logger);
  ~AmqpConsumer();  // stops

  // Connects and starts consuming before it returns when the broker is reachable, so that no
  // event published after start() is missed; otherwise keeps trying in the background.
  void start();

  // Stops consuming; unacknowledged deliveries go back to their queue. Idempotent.
  void stop() noexcept;

  // Asks the worker to call InboundSink::reconnected() (e.g. the publisher dropped events).
  void requestResync() { resync_requested_.store(true); }

  uint64_t deadLettered() const { return dead_lettered_.load(); }
  uint64_t reconnects() const { return reconnects_.load(); }

  // True while the consumer's connection is up and consuming.
  bool connected() const { return connected_.load(); }
  // The index in ConnectionSettings::brokers of the node it is (or was last) connected to.
  size_t brokerIndex() const { return broker_index_.load(); }
  // Why the last connection attempt or link failed; "" while connected.
  std::string lastError() const;

 private:
  std::unique_ptr<AmqpConnection> connect();
  void run();
  // Delivers messages until stop() (returns) or a failure of the link (throws AmqpError).
  void consume(AmqpConnection& connection);
  void handle(AmqpConnection& connection, const amqp_envelope_t& envelope);
  // Publishes the delivery to <exchange>.dead and waits for the broker's confirm.
  void deadLetter(const amqp_envelope_t& envelope, const std::string& exchange,
                  const std::string& error, int attempts);
  void resynchronize();
  void lost(const std::string& error);

  const ConsumerOptions options_;
  InboundSink& sink_;
  Poco::Logger& logger_;
  StopSignal stop_signal_;
  std::atomic<bool> resync_requested_{false};
  std::atomic<uint64_t> dead_lettered_{0};
  std::atomic<uint64_t> reconnects_{0};
  std::atomic<bool> connected_{false};
  std::atomic<size_t> broker_index_{0};
  mutable std::mutex error_mutex_;
  std::string last_error_;
  std::thread worker_;

  // Handed from start() to the worker, then worker thread only.
  std::unique_ptr<AmqpConnection> connection_;
  size_t next_broker_ = 0;  // the node the next connection tries first
  bool missed_events_ = false;
  std::map<std::string, std::string> exchange_by_consumer_tag_;
  DeadLetterPublisher dead_letters_;
};

}  // namespace busbar::amqp

// NatsConsumer: consumes one exchange's JetStream stream through a pull consumer and delivers its
// events to the inline bus, on its own thread.
//
// The JetStream consumer is durable and named after the queue with --exchange ALIAS:QUEUE: the
// servers that share the name take turns, and a message one of them took but did not acknowledge
// (it died) goes to another after [nats] ack_wait_ms. Without a queue it is this server's own
// (named after the server and a random suffix, deleted at stop and by the server after
// idle_consumer_expiry of a dead server's silence): every server hears every event. Both start
// at the events published after they were created.
//
// Each message is decoded and handed to the InboundSink, with the principal of its body; it is
// acknowledged only once the sink returned, so a server that dies meanwhile leaves it to be
// delivered again. A body that is no valid envelope, or one whose subscribers fail `retries` + 1
// times, is set aside: terminated (JetStream will not deliver it again), logged and counted; the
// rest flows. A consumer that vanished (deleted, a server that lost its store) is created again,
// and the subscribers resynchronize, since it missed what came meanwhile. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include <Poco/Logger.h>
#include <busbar/plugin.h>
#include <busbar/transport.h>

#include "envelope.h"
#include "nats_link.h"
#include "stop_signal.h"

namespace nats_transport {

class NatsConsumer {
 public:
  NatsConsumer(NatsLink& link, busbar::ConsumedExchange consumed, std::string server_id,
               busbar::InboundSink& sink, Poco::Logger& logger);
  ~NatsConsumer();  // stops

  // Creates the JetStream consumer (when the server answers; otherwise the worker keeps trying),
  // so that no event published after start() returns is missed, and starts the worker.
  void start();

  // Stops the worker (a pull request waiting for messages is cut short) after the delivery in
  // progress; a
  // message taken but not acknowledged goes back to JetStream after ack_wait. Deletes this
  // server's own consumer. Idempotent.
  void stop() noexcept;

  // Asks the worker to call InboundSink::reconnected().
  void requestResync() { resync_requested_.store(true); }

  uint64_t delivered() const { return delivered_.load(); }
  uint64_t setAside() const { return set_aside_.load(); }

 private:
  // Looks the consumer up, creates it when missing and subscribes. Throws NatsError.
  void subscribe();
  void unsubscribe() noexcept;
  void run();
  void handle(natsMsg* message);
  // Runs the subscribers of `envelope`; true when they all ran, false when given up or stopping.
  bool deliver(const Envelope& envelope, std::string& error);
  void resynchronize();

  NatsLink& link_;
  const busbar::ConsumedExchange consumed_;
  const std::string stream_;
  const std::string subject_;
  const std::string consumer_name_;
  const bool shared_;  // --exchange ALIAS:QUEUE
  busbar::InboundSink& sink_;
  Poco::Logger& logger_;
  StopSignal stop_signal_;
  std::atomic<bool> resync_requested_{false};
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> set_aside_{0};
  std::thread worker_;

  std::mutex subscription_mutex_;  // guards swapping subscription_ against stop()
  natsSubscription* subscription_ = nullptr;

  // start() and the worker only.
  bool created_once_ = false;  // this object created or found the consumer before
  std::chrono::steady_clock::time_point checked_at_;
};

}  // namespace nats_transport

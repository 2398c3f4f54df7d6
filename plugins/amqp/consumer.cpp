#include "consumer.h"

#include <sys/time.h>

#include "backoff.h"
#include "rfc3339.h"
#include "topology.h"

namespace busbar::amqp {
namespace {

constexpr amqp_channel_t kConsumeChannel = 1;
// How often the worker looks at the stop flag and resync requests while no message comes.
constexpr suseconds_t kPollMicroseconds = 250000;
// Error texts in dead-letter headers are cut to this many bytes.
constexpr size_t kMaxErrorHeader = 4096;

std::string textOf(amqp_bytes_t bytes) {
  return std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}

// Frees an envelope on every path out of a scope.
class EnvelopeGuard {
 public:
  explicit EnvelopeGuard(amqp_envelope_t& envelope) : envelope_(envelope) {}
  ~EnvelopeGuard() { amqp_destroy_envelope(&envelope_); }

 private:
  amqp_envelope_t& envelope_;
};

}  // namespace

AmqpConsumer::AmqpConsumer(ConsumerOptions options, InboundSink& sink, Poco::Logger& logger)
    : options_(std::move(options)),
      sink_(sink),
      logger_(logger),
      dead_letters_(options_.connection, "busbar dead letters " + options_.server_id) {}

AmqpConsumer::~AmqpConsumer() { stop(); }

std::unique_ptr<AmqpConnection> AmqpConsumer::connect() {
  auto connection = std::make_unique<AmqpConnection>(
      options_.connection, "busbar consumer " + options_.server_id, next_broker_);
  broker_index_.store(connection->brokerIndex());
  // Whatever ends this connection (its setup failing on this node, the node lost), the next one
  // tries the node after it first: in a cluster, the one least likely to answer now.
  next_broker_ = connection->brokerIndex() + 1;
  connection->openChannel(kConsumeChannel);
  connection->setPrefetch(kConsumeChannel, options_.prefetch);
  exchange_by_consumer_tag_.clear();
  for (const auto& consumed : options_.consumed) {
    if (options_.declare_exchanges) {
      declareExchangeTopology(*connection, kConsumeChannel, consumed.exchange,
                              options_.connection.quorum_queues);
    }
    QueueSpec spec;
    spec.name = consumed.queue;
    if (consumed.queue.empty()) {
      spec.exclusive = true;  // every server hears every event
      spec.auto_delete = true;
    } else {
      spec.durable = true;  // servers sharing the name share the work
      spec.quorum = options_.connection.quorum_queues;
    }
    std::string queue = connection->declareQueue(kConsumeChannel, spec);
    connection->bindQueue(kConsumeChannel, queue, consumed.exchange);
    exchange_by_consumer_tag_[connection->consume(kConsumeChannel, queue)] = consumed.exchange;
    logger_.information("amqp consuming exchange " + consumed.exchange + " through queue " + queue);
  }
  return connection;
}

std::string AmqpConsumer::lastError() const {
  std::lock_guard<std::mutex> lock(error_mutex_);
  return connected_.load() ? std::string() : last_error_;
}

void AmqpConsumer::lost(const std::string& error) {
  connected_.store(false);
  std::lock_guard<std::mutex> lock(error_mutex_);
  last_error_ = error;
}

void AmqpConsumer::start() {
  stop_signal_.reset();
  try {
    connection_ = connect();
    connected_.store(true);
  } catch (const std::exception& error) {
    logger_.warning(std::string("amqp consumer: ") + error.what() + "; retrying in the background");
    connection_.reset();
    lost(error.what());
    missed_events_ = true;
  }
  worker_ = std::thread([this] { run(); });
}

void AmqpConsumer::stop() noexcept {
  stop_signal_.raise();
  if (worker_.joinable()) worker_.join();
  lost("the transport stopped");
}

void AmqpConsumer::resynchronize() {
  try {
    sink_.reconnected();
  } catch (const std::exception& error) {
    logger_.error(std::string("amqp consumer: resynchronizing subscribers failed: ") +
                  error.what());
  }
}

void AmqpConsumer::run() {
  Backoff backoff(options_.reconnect_initial, options_.reconnect_cap);
  auto connected_at = std::chrono::steady_clock::now();
  while (!stop_signal_.raised()) {
    if (!connection_) {
      try {
        connection_ = connect();
        connected_.store(true);
        ++reconnects_;
        logger_.information("amqp consumer reconnected to " +
                            describeNode(options_.connection, connection_->brokerIndex()));
      } catch (const std::exception& error) {
        connection_.reset();
        lost(error.what());
        auto delay = backoff.next();
        logger_.warning(std::string("amqp consumer: ") + error.what() + "; retrying in " +
                        std::to_string(delay.count()) + " ms");
        stop_signal_.waitFor(delay);
        continue;
      }
    }
    if (missed_events_) {
      missed_events_ = false;
      resync_requested_.store(false);
      resynchronize();
    }
    try {
      connected_at = std::chrono::steady_clock::now();
      consume(*connection_);
    } catch (const std::exception& error) {
      connection_.reset();
      lost(error.what());
      missed_events_ = true;
      // A link that served a while starts the backoff over; a flapping one keeps growing it.
      if (std::chrono::steady_clock::now() - connected_at > kStableLink) backoff.reset();
      auto delay = backoff.next();
      logger_.warning(std::string("amqp consumer lost the broker: ") + error.what() +
                      "; reconnecting in " + std::to_string(delay.count()) + " ms");
      stop_signal_.waitFor(delay);
    }
  }
  connection_.reset();
}

void AmqpConsumer::consume(AmqpConnection& connection) {
  amqp_connection_state_t state = connection.state();
  while (!stop_signal_.raised()) {
    if (resync_requested_.exchange(false)) resynchronize();
    amqp_maybe_release_buffers(state);
    amqp_envelope_t envelope;
    timeval timeout{0, kPollMicroseconds};
    amqp_rpc_reply_t reply = amqp_consume_message(state, &envelope, &timeout, 0);
    if (reply.reply_type == AMQP_RESPONSE_NORMAL) {
      EnvelopeGuard guard(envelope);
      handle(connection, envelope);
      continue;
    }
    if (reply.reply_type != AMQP_RESPONSE_LIBRARY_EXCEPTION) {
      throw AmqpError("unexpected reply while consuming");
    }
    if (reply.library_error == AMQP_STATUS_TIMEOUT) {
      dead_letters_.serviceIdle();
      continue;
    }
    if (reply.library_error != AMQP_STATUS_UNEXPECTED_STATE) {
      connection.checkStatus(reply.library_error, "consuming");
    }
    // A frame other than a delivery: a close or a cancel.
    amqp_frame_t frame;
    connection.checkStatus(amqp_simple_wait_frame(state, &frame), "consuming");
    connection.throwIfClosing(frame);
    if (frame.frame_type == AMQP_FRAME_METHOD &&
        frame.payload.method.id == AMQP_BASIC_CANCEL_METHOD) {
      throw AmqpError("the broker cancelled the consumer (queue deleted?)");
    }
  }
}

void AmqpConsumer::handle(AmqpConnection& connection, const amqp_envelope_t& envelope) {
  const std::string consumer_tag = textOf(envelope.consumer_tag);
  auto known = exchange_by_consumer_tag_.find(consumer_tag);
  const std::string exchange =
      known != exchange_by_consumer_tag_.end() ? known->second : textOf(envelope.exchange);
  const std::string body = textOf(envelope.message.body);

  Envelope decoded;
  try {
    decoded = decodeEnvelope(body, options_.limits);
  } catch (const EnvelopeError& invalid) {
    logger_.warning("amqp consumer: a message on exchange " + exchange +
                    " is not a valid envelope, dead-lettered: " + invalid.what());
    deadLetter(envelope, exchange, std::string("invalid envelope: ") + invalid.what(), 0);
    connection.ack(kConsumeChannel, envelope.delivery_tag);
    return;
  }

  const Event& event = decoded.event;
  Backoff backoff(options_.retry_initial, std::chrono::milliseconds(5000));
  std::string error;
  int attempts = 0;
  for (;;) {
    ++attempts;
    try {
      if (decoded.logged.seq > 0) {
        sink_.deliverSequencedAttributed(event, decoded.logged, decoded.principal);
      } else {
        sink_.deliverAttributed(event, decoded.principal);
      }
      connection.ack(kConsumeChannel, envelope.delivery_tag);
      return;
    } catch (const AmqpError&) {
      throw;  // the ack failed: the link is gone, the broker will deliver it again
    } catch (const std::exception& failure) {
      error = failure.what();
    } catch (...) {
      error = "unknown error";
    }
    if (attempts > options_.retries) break;
    auto delay = backoff.next();
    logger_.warning("amqp consumer: subscribers failed on " + event.type + " " + event.id +
                    " (attempt " + std::to_string(attempts) + " of " +
                    std::to_string(options_.retries + 1) + "): " + error + "; retrying in " +
                    std::to_string(delay.count()) + " ms");
    if (stop_signal_.waitFor(delay)) return;  // unacknowledged: the broker keeps it
  }
  logger_.error("amqp consumer: subscribers failed on " + event.type + " " + event.id + " " +
                std::to_string(attempts) + " times, dead-lettered to " + deadLetterName(exchange) +
                ": " + error);
  deadLetter(envelope, exchange, error, attempts);
  connection.ack(kConsumeChannel, envelope.delivery_tag);
}

void AmqpConsumer::deadLetter(const amqp_envelope_t& envelope, const std::string& exchange,
                              const std::string& error, int attempts) {
  const amqp_basic_properties_t& properties = envelope.message.properties;
  OutgoingMessage message;
  message.exchange = deadLetterName(exchange);
  message.body = textOf(envelope.message.body);
  if (properties._flags & AMQP_BASIC_TYPE_FLAG) message.type = textOf(properties.type);
  if (properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG) {
    message.message_id = textOf(properties.message_id);
  }
  if (properties._flags & AMQP_BASIC_APP_ID_FLAG) message.app_id = textOf(properties.app_id);
  if (properties._flags & AMQP_BASIC_TIMESTAMP_FLAG) message.timestamp = properties.timestamp;
  message.string_headers["x-busbar-error"] = error.substr(0, kMaxErrorHeader);
  message.string_headers["x-busbar-exchange"] = exchange;
  message.string_headers["x-busbar-server"] = options_.server_id;
  message.string_headers["x-busbar-dead-lettered-at"] = formatRfc3339(Poco::Timestamp());
  message.integer_headers["x-busbar-attempts"] = attempts;

  dead_letters_.publish(message);
  ++dead_lettered_;
}

}  // namespace busbar::amqp

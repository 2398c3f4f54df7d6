// AmqpConnection: one logged-in rabbitmq-c connection and the few operations busbar needs.
//
// Turns every rabbitmq-c failure into an AmqpError that carries the broker's reason (or the
// library's), answers the broker's close methods as the protocol requires, and closes politely
// on destruction when the link still works. Not thread-safe: rabbitmq-c allows one thread per
// connection, so each thread owns its own AmqpConnection.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include <amqp.h>

#include "connection_settings.h"
#include "outgoing_message.h"

namespace busbar::amqp {

// The connection failed or the broker refused an operation.
class AmqpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What [amqp] says cannot work: the host does not resolve (every node's, for a cluster), or the
// broker refused the login (user, password or vhost: its 403 or 530; a cluster's users and vhosts
// are every node's). Trying again cannot succeed until the config or the broker's users change.
class AmqpSettingsRefused : public AmqpError {
 public:
  using AmqpError::AmqpError;
};

// The broker's host name does not resolve.
class AmqpHostUnknown : public AmqpSettingsRefused {
 public:
  using AmqpSettingsRefused::AmqpSettingsRefused;
};

// The broker closed one channel (e.g. 404 NOT_FOUND on a passive declare); the connection and
// the other channels still work, and the channel may be opened again.
class AmqpChannelClosed : public AmqpError {
 public:
  AmqpChannelClosed(const std::string& message, int reply_code)
      : AmqpError(message), reply_code_(reply_code) {}
  int replyCode() const { return reply_code_; }

 private:
  int reply_code_;
};

// How a queue is declared.
struct QueueSpec {
  std::string name;  // empty: the broker picks one
  bool durable = false;
  bool exclusive = false;
  bool auto_delete = false;
  bool passive = false;  // only check that it exists
  bool quorum = false;   // x-queue-type quorum: replicated over a cluster (durable, shared)
};

class AmqpConnection {
 public:
  // Connects and logs in to the first of settings.brokers that answers, trying them in order from
  // `first_broker` and around, naming the connection `name` in the broker's UI. Throws AmqpError
  // naming every node's failure when none answers.
  AmqpConnection(const ConnectionSettings& settings, const std::string& name,
                 size_t first_broker = 0);
  ~AmqpConnection();
  AmqpConnection(const AmqpConnection&) = delete;
  AmqpConnection& operator=(const AmqpConnection&) = delete;

  amqp_connection_state_t state() const { return state_; }

  // The index in settings.brokers of the node this connection is on.
  size_t brokerIndex() const { return broker_index_; }

  // Opens `channel`. Throws AmqpError.
  void openChannel(amqp_channel_t channel);

  // Declares a durable fanout exchange, or with `passive` checks that it exists.
  void declareFanoutExchange(amqp_channel_t channel, const std::string& name, bool passive);

  // Declares the queue; returns its name (the broker's choice when spec.name is empty).
  std::string declareQueue(amqp_channel_t channel, const QueueSpec& spec);

  // Binds `queue` to the fanout `exchange`.
  void bindQueue(amqp_channel_t channel, const std::string& queue, const std::string& exchange);

  // Deletes the exchange / queue; deleting one that does not exist succeeds.
  void deleteExchange(amqp_channel_t channel, const std::string& name);
  void deleteQueue(amqp_channel_t channel, const std::string& name);

  // Limits unacknowledged deliveries on `channel` to `count`.
  void setPrefetch(amqp_channel_t channel, uint16_t count);

  // Puts `channel` in publisher-confirm mode; delivery tags then count from 1.
  void selectConfirms(amqp_channel_t channel);

  // Starts consuming `queue` with manual acks; returns the consumer tag.
  std::string consume(amqp_channel_t channel, const std::string& queue);

  // Acknowledges one delivery. Throws AmqpError when the link is gone.
  void ack(amqp_channel_t channel, uint64_t delivery_tag);

  // Sends `message` as a persistent JSON message. Throws AmqpError when the link is gone.
  void publish(amqp_channel_t channel, const OutgoingMessage& message);

  // When `frame` is the broker closing a channel or the connection, answers close-ok and throws
  // AmqpChannelClosed or AmqpError with its reason; otherwise does nothing.
  void throwIfClosing(const amqp_frame_t& frame);

  // Throws AmqpError "<what>: <library reason>" for a status < 0, marking the link broken.
  void checkStatus(int status, const std::string& what);

  // False once a library error or a connection close made the link unusable.
  bool usable() const { return usable_; }

 private:
  // Connects and logs in to `broker`; on failure leaves state_ null and throws AmqpError
  // (AmqpSettingsRefused for a refused login, AmqpHostUnknown for a name that does not resolve).
  void open(const ConnectionSettings& settings, const BrokerAddress& broker,
            const std::string& name);

  // Checks the reply of the RPC just made on `channel`; throws with `what` and the reason.
  void checkReply(amqp_channel_t channel, const std::string& what);

  amqp_connection_state_t state_ = nullptr;
  bool usable_ = false;
  size_t broker_index_ = 0;
};

}  // namespace busbar::amqp

// DeadLetterPublisher: publishes dead letters on a connection of its own, waiting for each
// confirm, for the consumer thread.
//
// rabbitmq-c cannot wait for a confirm on one channel while deliveries arrive on another of the
// same connection, so dead letters get their own connection, opened on first use and opened
// again when it broke. Not thread-safe: owned and used by the consumer's thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "amqp_connection.h"
#include "connection_settings.h"
#include "outgoing_message.h"

namespace busbar::amqp {

class DeadLetterPublisher {
 public:
  DeadLetterPublisher(ConnectionSettings settings, std::string connection_name)
      : settings_(std::move(settings)), connection_name_(std::move(connection_name)) {}

  // Returns once the broker confirmed `message`; tries a fresh connection once when the
  // current one fails. On failure throws AmqpError with the reason.
  void publish(const OutgoingMessage& message);

  // Reads what the broker sent (heartbeats) so that an idle connection stays open; closes it
  // when it broke. Call when the consumer is idle.
  void serviceIdle() noexcept;

 private:
  void publishOnce(const OutgoingMessage& message);

  const ConnectionSettings settings_;
  const std::string connection_name_;
  std::unique_ptr<AmqpConnection> connection_;
  uint64_t last_delivery_tag_ = 0;
};

}  // namespace busbar::amqp

#include "dead_letter_publisher.h"

#include <sys/time.h>

namespace busbar::amqp {
namespace {

constexpr amqp_channel_t kDeadLetterChannel = 1;

}  // namespace

void DeadLetterPublisher::publish(const OutgoingMessage& message) {
  try {
    publishOnce(message);
  } catch (const AmqpChannelClosed&) {
    connection_.reset();
    throw;  // the broker refused it (e.g. no such exchange): a new connection will not help
  } catch (const AmqpError&) {
    connection_.reset();
    publishOnce(message);
  }
}

void DeadLetterPublisher::publishOnce(const OutgoingMessage& message) {
  if (!connection_) {
    auto connection = std::make_unique<AmqpConnection>(settings_, connection_name_);
    connection->openChannel(kDeadLetterChannel);
    connection->selectConfirms(kDeadLetterChannel);
    connection_ = std::move(connection);
    last_delivery_tag_ = 0;
  }
  connection_->publish(kDeadLetterChannel, message);
  const uint64_t tag = ++last_delivery_tag_;
  amqp_connection_state_t state = connection_->state();
  const auto deadline = std::chrono::steady_clock::now() + settings_.rpc_timeout;
  for (;;) {
    if (std::chrono::steady_clock::now() >= deadline) {
      connection_->checkStatus(AMQP_STATUS_TIMEOUT, "waiting for the dead-letter confirm");
    }
    amqp_maybe_release_buffers(state);
    amqp_frame_t frame;
    timeval wait{0, 100000};
    int status = amqp_simple_wait_frame_noblock(state, &frame, &wait);
    if (status == AMQP_STATUS_TIMEOUT) continue;
    connection_->checkStatus(status, "waiting for the dead-letter confirm");
    connection_->throwIfClosing(frame);
    if (frame.frame_type != AMQP_FRAME_METHOD) continue;
    if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
      auto* ack = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
      if (ack->delivery_tag >= tag) return;
    } else if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
      throw AmqpError("the broker refused the dead letter for exchange " + message.exchange);
    }
  }
}

void DeadLetterPublisher::serviceIdle() noexcept {
  if (!connection_) return;
  try {
    amqp_connection_state_t state = connection_->state();
    amqp_maybe_release_buffers(state);
    for (;;) {
      amqp_frame_t frame;
      timeval wait{0, 1000};
      int status = amqp_simple_wait_frame_noblock(state, &frame, &wait);
      if (status == AMQP_STATUS_TIMEOUT) return;
      connection_->checkStatus(status, "dead-letter connection");
      connection_->throwIfClosing(frame);
    }
  } catch (const std::exception&) {
    connection_.reset();  // opened again on the next dead letter
  }
}

}  // namespace busbar::amqp

#include "amqp_transport.h"

#include "outgoing_message.h"

namespace busbar::amqp {

AmqpTransport::AmqpTransport(const AmqpSettings& settings, const HostInfo& host, InboundSink& sink,
                             Poco::Logger& logger)
    : sink_(sink) {
  if (!host.consumed.empty()) {
    ConsumerOptions consumer;
    consumer.connection = settings.connection;
    consumer.server_id = host.server_id;
    consumer.consumed = host.consumed;
    consumer.declare_exchanges = settings.auto_setup;
    consumer.retries = settings.retries;
    consumer_ = std::make_unique<AmqpConsumer>(std::move(consumer), sink, logger);
  }
  PublisherOptions publisher;
  publisher.connection = settings.connection;
  publisher.connection_name = "busbar publisher " + host.server_id;
  for (const auto& [alias, exchange] : host.exchanges) publisher.exchanges.push_back(exchange);
  publisher.declare_exchanges = settings.auto_setup;
  publisher.queue_capacity = settings.queue_capacity;
  publisher_ =
      std::make_unique<AmqpPublisher>(std::move(publisher), logger, [this] { eventsLost(); });
}

void AmqpTransport::publish(const std::string& exchange, const Event& event) {
  publisher_->enqueue(messageForEvent(exchange, event));
}

void AmqpTransport::publishSequenced(const std::string& exchange, const Event& event,
                                     const EventLogSeq& at, PublishSettled settled) {
  OutgoingMessage message = messageForEvent(exchange, event, at);
  message.settled = std::move(settled);
  publisher_->enqueue(std::move(message));
}

void AmqpTransport::eventsLost() {
  if (consumer_) {
    consumer_->requestResync();
  } else {
    sink_.reconnected();
  }
}

void AmqpTransport::start() {
  if (consumer_) consumer_->start();
  publisher_->start();
}

void AmqpTransport::stop() noexcept {
  if (consumer_) consumer_->stop();
  publisher_->stop();
}

}  // namespace busbar::amqp

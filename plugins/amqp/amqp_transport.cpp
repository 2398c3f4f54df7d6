#include "amqp_transport.h"

#include "amqp_connection.h"
#include "busbar/errors.h"
#include "outgoing_message.h"

namespace busbar::amqp {

AmqpTransport::AmqpTransport(const AmqpSettings& settings, const HostInfo& host, InboundSink& sink,
                             Poco::Logger& logger)
    : sink_(sink),
      logger_(logger),
      connection_(settings.connection),
      server_id_(host.server_id),
      broker_(describe(settings.connection)) {
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

void AmqpTransport::publishAttributed(const std::string& exchange, const Event& event,
                                      const std::string& principal) {
  publisher_->enqueue(messageForEvent(exchange, event, {}, principal));
}

void AmqpTransport::publishSequencedAttributed(const std::string& exchange, const Event& event,
                                               const EventLogSeq& at, const std::string& principal,
                                               PublishSettled settled) {
  OutgoingMessage message = messageForEvent(exchange, event, at, principal);
  message.settled = std::move(settled);
  publisher_->enqueue(std::move(message));
}

void AmqpTransport::publish(const std::string& exchange, const Event& event) {
  publishAttributed(exchange, event, std::string());
}

void AmqpTransport::publishSequenced(const std::string& exchange, const Event& event,
                                     const EventLogSeq& at, PublishSettled settled) {
  publishSequencedAttributed(exchange, event, at, std::string(), std::move(settled));
}

std::string AmqpTransport::unavailable() const {
  std::string problem;
  auto check = [&](const char* which, bool connected, const std::string& error) {
    if (connected) return;
    problem += (problem.empty() ? "" : "; ") + std::string("the amqp ") + which +
               "'s connection to " + broker_ + " is down" +
               (error.empty() ? " (connecting)" : ": " + error);
  };
  check("publisher", publisher_->connected(), publisher_->lastError());
  if (consumer_) check("consumer", consumer_->connected(), consumer_->lastError());
  return problem;
}

void AmqpTransport::exportMetrics(MetricsRegistry& metrics) {
  AmqpPublisher* publisher = publisher_.get();
  auto count = [](uint64_t value) { return static_cast<double>(value); };
  metrics.counterReader("busbar_amqp_events_published_total",
                        "Event messages the publisher sent to the broker (sent again after a "
                        "reconnect or a nack, they count again)",
                        {}, [=] { return count(publisher->published()); });
  metrics.counterReader("busbar_amqp_events_confirmed_total",
                        "Event messages the broker confirmed (publisher confirms)", {},
                        [=] { return count(publisher->confirmed()); });
  metrics.counterReader("busbar_amqp_events_nacked_total",
                        "Event messages the broker refused (nack); they are published again", {},
                        [=] { return count(publisher->nacked()); });
  metrics.counterReader("busbar_amqp_events_dropped_total",
                        "Event messages the publisher dropped: its queue was full, or it stopped "
                        "before the broker took them (logged events are relayed again from the "
                        "event log)",
                        {}, [=] { return count(publisher->dropped()); });
  metrics.gaugeReader("busbar_amqp_publish_queue_messages",
                      "Event messages waiting in the publisher's queue", {},
                      [=] { return static_cast<double>(publisher->queued()); });
  const std::string connected_help = "1 while the connection to the broker is up, by connection";
  const std::string reconnects_help =
      "Times a connection to the broker was made again after it failed, by connection";
  metrics.gaugeReader("busbar_amqp_connected", connected_help, {{"connection", "publisher"}},
                      [=] { return publisher->connected() ? 1.0 : 0.0; });
  metrics.counterReader("busbar_amqp_reconnects_total", reconnects_help,
                        {{"connection", "publisher"}},
                        [=] { return count(publisher->reconnects()); });
  // Which node of the broker each connection is on: one series per configured node, 1 for the
  // node a connection is connected to now.
  const std::string node_help =
      "1 for the node of the broker ([amqp] host or hosts) the connection is on now, by "
      "connection and node";
  for (size_t index = 0; index < connection_.brokers.size(); ++index) {
    metrics.gaugeReader(
        "busbar_amqp_connected_node", node_help,
        {{"connection", "publisher"}, {"node", describe(connection_.brokers[index])}},
        [=] { return publisher->connected() && publisher->brokerIndex() == index ? 1.0 : 0.0; });
  }
  AmqpConsumer* consumer = consumer_.get();
  if (consumer == nullptr) return;
  metrics.gaugeReader("busbar_amqp_connected", connected_help, {{"connection", "consumer"}},
                      [=] { return consumer->connected() ? 1.0 : 0.0; });
  for (size_t index = 0; index < connection_.brokers.size(); ++index) {
    metrics.gaugeReader(
        "busbar_amqp_connected_node", node_help,
        {{"connection", "consumer"}, {"node", describe(connection_.brokers[index])}},
        [=] { return consumer->connected() && consumer->brokerIndex() == index ? 1.0 : 0.0; });
  }
  metrics.counterReader("busbar_amqp_reconnects_total", reconnects_help,
                        {{"connection", "consumer"}},
                        [=] { return count(consumer->reconnects()); });
  metrics.counterReader("busbar_amqp_events_dead_lettered_total",
                        "Consumed messages sent to the dead-letter exchange: not a valid "
                        "envelope, or their subscribers kept failing",
                        {}, [=] { return count(consumer->deadLettered()); });
}

void AmqpTransport::eventsLost() {
  if (consumer_) {
    consumer_->requestResync();
  } else {
    sink_.reconnected();
  }
}

void AmqpTransport::start() {
  // A login the broker refuses, or a host that does not resolve, is a mistake in [amqp]: the host
  // stops (exit 2) instead of retrying it for ever. A broker that is away is the environment's
  // matter: the connections' threads retry it, and /readyz answers 503 meanwhile.
  try {
    AmqpConnection check(connection_, "busbar start " + server_id_);
  } catch (const AmqpSettingsRefused& refused) {
    throw ConfigError(std::string(refused.what()));
  } catch (const AmqpError& away) {
    logger_.warning(std::string(away.what()) + "; retrying, not ready until it connects");
  }
  if (consumer_) consumer_->start();
  publisher_->start();
}

void AmqpTransport::stop() noexcept {
  if (consumer_) consumer_->stop();
  publisher_->stop();
}

}  // namespace busbar::amqp

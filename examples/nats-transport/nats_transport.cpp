#include "nats_transport.h"

#include "envelope.h"

namespace nats_transport {
namespace {

// How long stop() keeps publishing what is queued.
constexpr std::chrono::milliseconds kFlush{2000};

std::vector<std::string> exchangeNames(const busbar::HostInfo& host) {
  std::vector<std::string> names;
  for (const auto& [alias, exchange] : host.exchanges) names.push_back(exchange);
  for (const auto& consumed : host.consumed) names.push_back(consumed.exchange);
  return names;
}

}  // namespace

NatsTransport::NatsTransport(const NatsSettings& settings, const busbar::HostInfo& host,
                             busbar::InboundSink& sink, Poco::Logger& logger)
    : settings_(settings),
      sink_(sink),
      logger_(logger),
      link_(settings, "busbar " + host.server_id, logger,
            [this] {
              // Events may have been dropped by publishers during the outage; the consumers
              // resume where JetStream kept their place, but a resync costs little and covers
              // what no stream holds.
              for (auto& consumer : consumers_) consumer->requestResync();
            }),
      publisher_(link_, settings.queue_capacity, logger, [this] { eventsLost(); }) {
  checkExchangeNames(settings_, exchangeNames(host));
  for (const auto& consumed : host.consumed) {
    consumers_.push_back(
        std::make_unique<NatsConsumer>(link_, consumed, host.server_id, sink, logger));
  }
}

NatsTransport::~NatsTransport() { stop(); }

OutgoingMessage NatsTransport::messageFor(const std::string& exchange, const busbar::Event& event,
                                          const busbar::EventLogSeq& at,
                                          const std::string& principal) const {
  OutgoingMessage message;
  message.exchange = exchange;
  message.subject = subjectName(settings_, exchange);
  message.message_id = event.id;
  message.type = event.type;
  message.body = encodeEnvelope(event, at, principal);
  return message;
}

void NatsTransport::publishAttributed(const std::string& exchange, const busbar::Event& event,
                                      const std::string& principal) {
  publisher_.enqueue(messageFor(exchange, event, {}, principal));
}

void NatsTransport::publishSequencedAttributed(const std::string& exchange,
                                               const busbar::Event& event,
                                               const busbar::EventLogSeq& at,
                                               const std::string& principal,
                                               busbar::PublishSettled settled) {
  OutgoingMessage message = messageFor(exchange, event, at, principal);
  message.settled = std::move(settled);
  publisher_.enqueue(std::move(message));
}

void NatsTransport::publish(const std::string& exchange, const busbar::Event& event) {
  publishAttributed(exchange, event, std::string());
}

void NatsTransport::publishSequenced(const std::string& exchange, const busbar::Event& event,
                                     const busbar::EventLogSeq& at,
                                     busbar::PublishSettled settled) {
  publishSequencedAttributed(exchange, event, at, std::string(), std::move(settled));
}

std::string NatsTransport::unavailable() const {
  if (!started_) return "the nats transport has not started";
  std::string error = link_.lastError();
  return error.empty() ? "" : "nats: " + error;
}

void NatsTransport::exportMetrics(busbar::MetricsRegistry& metrics) {
  NatsPublisher* publisher = &publisher_;
  NatsLink* link = &link_;
  auto count = [](uint64_t value) { return static_cast<double>(value); };
  metrics.counterReader("busbar_nats_events_published_total",
                        "Publish attempts to JetStream (a retry counts again)", {},
                        [=] { return count(publisher->published()); });
  metrics.counterReader("busbar_nats_events_confirmed_total",
                        "Events JetStream acknowledged (stored in the stream)", {},
                        [=] { return count(publisher->confirmed()); });
  metrics.counterReader("busbar_nats_events_dropped_total",
                        "Events the publisher dropped: queue full, or stopped before JetStream "
                        "took them (logged events are relayed again from the event log)",
                        {}, [=] { return count(publisher->dropped()); });
  metrics.gaugeReader("busbar_nats_publish_queue_messages", "Events waiting to be published", {},
                      [=] { return static_cast<double>(publisher->queued()); });
  metrics.gaugeReader("busbar_nats_connected", "1 while the link to NATS is up", {},
                      [=] { return link->connected() ? 1.0 : 0.0; });
  metrics.counterReader("busbar_nats_reconnects_total", "Times the link to NATS came back", {},
                        [=] { return count(link->reconnects()); });
  std::vector<NatsConsumer*> consumers;
  for (auto& consumer : consumers_) consumers.push_back(consumer.get());
  metrics.counterReader("busbar_nats_events_set_aside_total",
                        "Consumed messages terminated without delivery: not a valid envelope, "
                        "or their subscribers kept failing",
                        {}, [=] {
                          uint64_t total = 0;
                          for (auto* consumer : consumers) total += consumer->setAside();
                          return count(total);
                        });
}

void NatsTransport::eventsLost() {
  if (consumers_.empty()) {
    sink_.reconnected();
    return;
  }
  consumers_.front()->requestResync();
}

void NatsTransport::start() {
  link_.open();
  for (auto& consumer : consumers_) consumer->start();
  publisher_.start();
  started_ = true;
}

void NatsTransport::stop() noexcept {
  if (!started_) return;
  started_ = false;
  for (auto& consumer : consumers_) consumer->stop();
  publisher_.stop(kFlush);
  link_.close();
}

}  // namespace nats_transport

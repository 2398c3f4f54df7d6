// AmqpTransport: the Transport that carries events over RabbitMQ.
//
// publish() hands the event to an AmqpPublisher (its own thread and connection); an
// AmqpConsumer (another thread and connection) delivers the consumed exchanges into the inline
// bus, when this server consumes any. Every event carries who caused it (AttributedTransport).
// Logged events carry their place in the event log (and the id of the request that emitted
// them) and report the broker's confirms to the host; unlogged events the publisher had to drop
// make the subscribers resynchronize. It tells the host whether both connections are up
// (TransportHealth, for GET /readyz) and exports its figures as busbar_amqp_* metrics.
// Thread-safe.
#pragma once

#include <memory>
#include <string>

#include <Poco/Logger.h>

#include "amqp_settings.h"
#include "busbar/metrics.h"
#include "busbar/plugin.h"
#include "busbar/transport.h"
#include "consumer.h"
#include "publisher.h"

namespace busbar::amqp {

class AmqpTransport : public Transport,
                      public SequencedTransport,
                      public AttributedTransport,
                      public TransportHealth {
 public:
  // Configures; opens nothing until start().
  AmqpTransport(const AmqpSettings& settings, const HostInfo& host, InboundSink& sink,
                Poco::Logger& logger);

  // Queues `event` for `exchange`, caused by `principal` ("" for nobody, left out of the
  // envelope); never waits on the network. A full queue drops it (logged).
  void publishAttributed(const std::string& exchange, const Event& event,
                         const std::string& principal) override;

  // The same for a logged event: its seq and log travel in the envelope, `settled` is told
  // whether the broker confirmed it (false also when the queue was full or the transport
  // stopped first).
  void publishSequencedAttributed(const std::string& exchange, const Event& event,
                                  const EventLogSeq& at, const std::string& principal,
                                  PublishSettled settled) override;

  // Transport's and SequencedTransport's own, for callers that know no principal: the two
  // above, caused by nobody.
  void publish(const std::string& exchange, const Event& event) override;
  void publishSequenced(const std::string& exchange, const Event& event, const EventLogSeq& at,
                        PublishSettled settled) override;

  // "" while the publisher's connection (and the consumer's, when it consumes) is up.
  std::string unavailable() const override;

  // Exports the publisher's and consumer's figures through `metrics`; during init.
  void exportMetrics(MetricsRegistry& metrics);

  // Starts consuming (synchronously when the broker is up) and the publisher thread. Throws
  // ConfigError when the broker refuses the login or the host does not resolve.
  void start();

  // Stops consuming, then flushes and closes the publisher.
  void stop() noexcept;

 private:
  void eventsLost();

  InboundSink& sink_;
  Poco::Logger& logger_;
  const ConnectionSettings connection_;
  const std::string server_id_;
  const std::string broker_;                // host:port/vhost, for messages
  std::unique_ptr<AmqpConsumer> consumer_;  // null when this server consumes nothing
  std::unique_ptr<AmqpPublisher> publisher_;
};

}  // namespace busbar::amqp

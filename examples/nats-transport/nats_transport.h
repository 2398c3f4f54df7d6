// NatsTransport: the Transport that carries events over NATS JetStream.
//
// One stream per exchange (its subject is the exchange's name, under [nats] subject_prefix);
// publish() hands the event to a NatsPublisher, which waits for JetStream's publish ack; one
// NatsConsumer per exchange this server consumes (--exchange) delivers into the inline bus. All
// share one NatsLink. Every event carries who caused it (AttributedTransport). Logged events
// carry their place in the event log and report JetStream's acks to the host
// (SequencedTransport); the host's /readyz sees the link's state (TransportHealth). Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <Poco/Logger.h>
#include <busbar/metrics.h>
#include <busbar/plugin.h>
#include <busbar/transport.h>

#include "nats_consumer.h"
#include "nats_link.h"
#include "nats_publisher.h"
#include "nats_settings.h"

namespace nats_transport {

class NatsTransport : public busbar::Transport,
                      public busbar::SequencedTransport,
                      public busbar::AttributedTransport,
                      public busbar::TransportHealth {
 public:
  // Configures; opens nothing until start(). Throws busbar::ConfigError for exchange names
  // NATS cannot carry.
  NatsTransport(const NatsSettings& settings, const busbar::HostInfo& host,
                busbar::InboundSink& sink, Poco::Logger& logger);
  ~NatsTransport() override;

  // Queues `event` for `exchange`, caused by `principal` ("" for nobody, left out of the body);
  // never waits on the network. A full queue drops it (logged) and subscribers resynchronize.
  void publishAttributed(const std::string& exchange, const busbar::Event& event,
                         const std::string& principal) override;

  // The same for a logged event: its seq, log and request id travel in the body; `settled` is
  // told whether JetStream stored it.
  void publishSequencedAttributed(const std::string& exchange, const busbar::Event& event,
                                  const busbar::EventLogSeq& at, const std::string& principal,
                                  busbar::PublishSettled settled) override;

  // Transport's and SequencedTransport's own, for callers that know no principal: the two
  // above, caused by nobody.
  void publish(const std::string& exchange, const busbar::Event& event) override;
  void publishSequenced(const std::string& exchange, const busbar::Event& event,
                        const busbar::EventLogSeq& at, busbar::PublishSettled settled) override;

  // "" while the link to NATS is up.
  std::string unavailable() const override;

  // Exports busbar_nats_* figures; during init.
  void exportMetrics(busbar::MetricsRegistry& metrics);

  // Connects and creates the consumers (when NATS answers; otherwise in the background), then
  // starts publishing. Throws busbar::ConfigError when NATS refuses the credentials.
  void start();

  // Stops consuming, publishes what is queued for up to 2 s, closes the link.
  void stop() noexcept;

 private:
  OutgoingMessage messageFor(const std::string& exchange, const busbar::Event& event,
                             const busbar::EventLogSeq& at, const std::string& principal) const;
  void eventsLost();

  const NatsSettings settings_;
  busbar::InboundSink& sink_;
  Poco::Logger& logger_;
  NatsLink link_;
  std::vector<std::unique_ptr<NatsConsumer>> consumers_;
  NatsPublisher publisher_;
  bool started_ = false;
};

}  // namespace nats_transport

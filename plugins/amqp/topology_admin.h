// AmqpTopologyAdmin: what `busbar infra create|check|drop` drives for the amqp transport.
//
// Each call opens its own short-lived connection (the host calls it without start()), does its
// work, and closes it. Thread-safe: calls share nothing.
#pragma once

#include <string>
#include <vector>

#include "busbar/transport.h"
#include "connection_settings.h"

namespace busbar::amqp {

class AmqpTopologyAdmin : public TopologyAdmin {
 public:
  explicit AmqpTopologyAdmin(ConnectionSettings settings) : settings_(std::move(settings)) {}

  // Declares each exchange with its dead-letter exchange and queue. Throws AmqpError.
  std::vector<std::string> createTopology(const std::vector<std::string>& exchanges) override;

  // Reports, per exchange, whether it, its dead-letter exchange and queue exist.
  bool checkTopology(const std::vector<std::string>& exchanges,
                     std::vector<std::string>& report) override;

  // Deletes each exchange with its dead-letter exchange and queue. Throws AmqpError.
  std::vector<std::string> dropTopology(const std::vector<std::string>& exchanges) override;

 private:
  const ConnectionSettings settings_;
};

}  // namespace busbar::amqp
